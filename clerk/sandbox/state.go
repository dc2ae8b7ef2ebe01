package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The state file is JSON Lines of stored users, written to a temp file and renamed,
// so a crash mid-save leaves the previous state intact.

func (s *Server) load() error {
	f, err := os.Open(s.opts.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: open state: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	for n := 1; dec.More(); n++ {
		u := &user{}
		if err := dec.Decode(u); err != nil {
			return fmt.Errorf("sandbox: state %s record %d: %w", s.opts.StateFile, n, err)
		}
		if u.ID == "" || st.byID[u.ID] != nil || st.conflict(u) != "" {
			return fmt.Errorf("sandbox: state %s record %d: missing or duplicate identifiers", s.opts.StateFile, n)
		}
		st.insert(u)
	}
	st.dirty = false
	s.logf("sandbox: loaded %d users from %s", len(st.byID), s.opts.StateFile)
	return nil
}

// Save writes the users to Options.StateFile now (atomically, mode 0600), if anything changed
// since the last save. Close saves too; Save is for a caller that wants a checkpoint sooner.
func (s *Server) Save() error {
	if s.opts.StateFile == "" {
		return errors.New("sandbox: save: no state file configured (Options.StateFile)")
	}
	return s.save()
}

// save writes the state file if anything changed since the last save.
func (s *Server) save() error {
	s.saveMu.Lock() // one save at a time, so an older snapshot never renames over a newer one
	defer s.saveMu.Unlock()
	st := s.store
	st.mu.Lock()
	if !st.dirty {
		st.mu.Unlock()
		return nil
	}
	users := st.match(filter{}) // unordered: ids and created_at carry the order
	st.dirty = false
	// Encode outside the lock: stored users are never mutated, only added or removed.
	st.mu.Unlock()

	dir := filepath.Dir(s.opts.StateFile)
	tmp, err := os.CreateTemp(dir, filepath.Base(s.opts.StateFile)+".tmp*")
	if err != nil {
		s.markDirty()
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	bw := bufio.NewWriter(tmp)
	enc := json.NewEncoder(bw)
	for _, u := range users {
		if err = enc.Encode(u); err != nil {
			break
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync() // the rename must not land before the data
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.opts.StateFile)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		s.markDirty()
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func (s *Server) markDirty() {
	s.store.mu.Lock()
	s.store.dirty = true
	s.store.mu.Unlock()
}

func (s *Server) saver() {
	defer s.saverWG.Done()
	every := s.opts.SaveEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.save(); err != nil {
				s.logf("%v", err)
			}
		}
	}
}
