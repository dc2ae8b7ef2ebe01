package runfolder

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, stale, err := AcquireLock(dir)
	if err != nil || stale != 0 {
		t.Fatalf("first lock: %v stale=%d", err, stale)
	}
	if _, _, err := AcquireLock(dir); err == nil || !strings.Contains(err.Error(), "locked by process") {
		t.Fatalf("second lock: want locked, got %v", err)
	}
	must(t, l.Release())
	// A lock left by a process that is gone is taken over.
	os.WriteFile(filepath.Join(dir, LockFile), []byte("999999999\n"), 0o600)
	l, stale, err = AcquireLock(dir)
	if err != nil || stale != 999999999 {
		t.Fatalf("stale lock: %v stale=%d", err, stale)
	}
	l.Release()
}

// An empty lock file (a crash between create and write) or one naming a live process that
// holds no lock (a reused PID) is no holder: the lock is taken, the PID reported as stale.
func TestLockFileWithoutAHolder(t *testing.T) {
	for _, tc := range []struct {
		content string
		stale   int
	}{
		{"", 0},
		{"1\n", 1}, // init: alive, and never our holder
		{strconv.Itoa(os.Getppid()) + "\n", os.Getppid()},
		{"garbage", 0},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, LockFile), []byte(tc.content), 0o600)
		l, stale, err := AcquireLock(dir)
		if err != nil || stale != tc.stale {
			t.Errorf("lock file %q: %v stale=%d, want taken with stale=%d", tc.content, err, stale, tc.stale)
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, LockFile))
		if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
			t.Errorf("lock file says %q, want our PID", b)
		}
		must(t, l.Release())
	}
}

// lockChildEnv makes the test binary a lock contender (see TestMain).
const lockChildEnv = "RUNFOLDER_LOCK_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		os.Exit(lockChild(dir))
	}
	os.Exit(m.Run())
}

// lockChild contends for the lock: 30 tries, each holding it briefly when it gets it. Exit 0
// if it held it at least once, 3 if never, 1 if it saw another holder while it held the lock,
// 2 on any other error. With RUNFOLDER_LOCK_HOLD it holds the lock until killed.
func lockChild(dir string) int {
	<-time.After(time.Until(time.Unix(0, mustAtoi(os.Getenv("RUNFOLDER_LOCK_AT")))))
	held := false
	for range 30 {
		l, _, err := AcquireLock(dir)
		if errors.Is(err, ErrLocked) {
			time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if os.Getenv("RUNFOLDER_LOCK_HOLD") != "" {
			fmt.Println("held")
			select {}
		}
		// While we hold it, no one else may: a marker only one holder at a time can create.
		mark := filepath.Join(dir, "holder")
		f, err := os.OpenFile(mark, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, "two holders at once:", err)
			return 1
		}
		f.Close()
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		os.Remove(mark)
		if err := l.Release(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		held = true
	}
	if !held {
		return 3
	}
	return 0
}

func mustAtoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Many processes started at once on one folder, each taking and releasing the lock over and
// over: never two holders at once, and someone always gets it.
func TestLockRace(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const procs, rounds = 16, 25
	for round := range rounds {
		dir := t.TempDir()
		at := time.Now().Add(300 * time.Millisecond).UnixNano() // all start together
		cmds := make([]*exec.Cmd, procs)
		outs := make([]*strings.Builder, procs)
		for i := range cmds {
			cmds[i] = exec.Command(exe, "-test.run=^$")
			outs[i] = &strings.Builder{}
			cmds[i].Stderr = outs[i]
			cmds[i].Env = append(os.Environ(), lockChildEnv+"="+dir, "RUNFOLDER_LOCK_AT="+strconv.FormatInt(at, 10))
			if err := cmds[i].Start(); err != nil {
				t.Fatal(err)
			}
		}
		held := 0
		for i, c := range cmds {
			err := c.Wait()
			code := c.ProcessState.ExitCode()
			switch {
			case err == nil:
				held++
			case code == 3:
			default:
				t.Fatalf("round %d: contender %d exited %d: %s", round, i, code, outs[i])
			}
		}
		if held == 0 {
			t.Fatalf("round %d: no contender got the lock", round)
		}
		if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("round %d: lock file left behind (%v)", round, err)
		}
	}
}

// A holder killed with SIGKILL releases the lock with its process: the next run takes it
// and is told the dead holder's PID.
func TestLockDiesWithItsProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir, "RUNFOLDER_LOCK_AT=0", "RUNFOLDER_LOCK_HOLD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 5)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "held\n" {
		t.Fatalf("child did not take the lock: %q %v", line, err)
	}
	if _, _, err := AcquireLock(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "process "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("while the child holds it: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, stale, err := AcquireLock(dir)
	if err != nil || stale != cmd.Process.Pid {
		t.Fatalf("after the holder died: %v stale=%d, want taken over from %d", err, stale, cmd.Process.Pid)
	}
	must(t, l.Release())
}
