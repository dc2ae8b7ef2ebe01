package importer

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/userimport/userimport/runfolder"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// failedFile collects the rows not imported, in the input's own format and header, so they
// can be fixed and fed in again. It is created on the first failed row: a clean run leaves none.
type failedFile struct {
	mu     sync.Mutex
	path   string
	format source.Format
	header []string
	dial   source.Dialect // the input's delimiter, encoding, BOM and line ends, written back alike
	f      *os.File
	w      source.Writer
	n      int
	// reasons is failed-reasons.csv beside it: one line per row in failed.<ext>, saying why,
	// so failed.<ext> itself keeps the input's shape and can be fed in again as it is.
	reasonsPath string
	rf          *os.File
	rw          *csv.Writer
}

// FailedReasonsFile names the sibling of failed.<ext> that says why each row is there.
const FailedReasonsFile = "failed-reasons.csv"

var reasonsHeader = []string{"line", "external_id", "status", "code", "field", "message"}

func newFailedFile(dir string, format source.Format, header []string, dial source.Dialect) *failedFile {
	ff := &failedFile{path: filepath.Join(dir, "failed."+string(format)), format: format, header: header, dial: dial,
		reasonsPath: filepath.Join(dir, FailedReasonsFile)}
	// A previous session's lists are stale: this session reports its own failures afresh.
	os.Remove(ff.path)
	os.Remove(ff.reasonsPath)
	return ff
}

// Write keeps rec for failed.<ext> and e's reason for failed-reasons.csv.
func (ff *failedFile) Write(rec source.Record, e runfolder.Event) error {
	if ff == nil { // validate: nothing is written
		return nil
	}
	ff.mu.Lock()
	defer ff.mu.Unlock()
	if ff.w == nil {
		f, err := runfolder.CreateFile(ff.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return err
		}
		ff.f, ff.w = f, source.NewWriterFor(f, ff.format, ff.header, ff.dial)
	}
	if err := ff.writeReason(e); err != nil {
		return err
	}
	ff.n++
	return ff.w.Write(rec)
}

// writeReason adds e's line to failed-reasons.csv, opening it with its header on first use.
func (ff *failedFile) writeReason(e runfolder.Event) error {
	if ff.rw == nil {
		f, err := runfolder.CreateFile(ff.reasonsPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return err
		}
		ff.rf, ff.rw = f, csv.NewWriter(f)
		if err := ff.rw.Write(reasonsHeader); err != nil {
			return fmt.Errorf("write %s: %w", ff.reasonsPath, err)
		}
	}
	row := []string{strconv.Itoa(e.Line), e.ExternalID, string(e.Status), "", "", ""}
	if e.Error != nil {
		row[3], row[4], row[5] = e.Error.Code, e.Error.Param, e.Error.Message
	}
	if err := ff.rw.Write(row); err != nil {
		return fmt.Errorf("write %s: %w", ff.reasonsPath, err)
	}
	return nil
}

func (ff *failedFile) Close() error {
	if ff == nil {
		return nil
	}
	ff.mu.Lock()
	defer ff.mu.Unlock()
	if ff.w == nil {
		return nil
	}
	werr := ff.w.Close()
	if err := ff.f.Close(); werr == nil && err != nil {
		werr = err
	}
	if ff.rw != nil {
		ff.rw.Flush()
		if err := ff.rw.Error(); werr == nil && err != nil {
			werr = err
		}
		if err := ff.rf.Close(); werr == nil && err != nil {
			werr = err
		}
	}
	if werr != nil {
		return fmt.Errorf("close %s: %w", ff.path, werr)
	}
	return nil
}

// coverageFields are the create fields validate's coverage report counts, in its order.
var coverageFields = [...]string{"external_id", "email_address", "phone_number", "web3_wallet", "username", "first_name",
	"last_name", "password", "password_digest", "totp_secret", "backup_codes", "public_metadata", "private_metadata",
	"unsafe_metadata", "created_at"}

// presentFields tells which of coverageFields p carries: bit i for coverageFields[i].
func presentFields(p *mapping.CreateUserParams) uint32 {
	var m uint32
	for i, present := range [len(coverageFields)]bool{p.ExternalID != nil, len(p.EmailAddresses) > 0,
		len(p.PhoneNumbers) > 0, len(p.Web3Wallets) > 0, p.Username != nil, p.FirstName != nil, p.LastName != nil,
		p.Password != nil, p.PasswordDigest != nil, p.TOTPSecret != nil, len(p.BackupCodes) > 0,
		len(p.PublicMetadata) > 0, len(p.PrivateMetadata) > 0, len(p.UnsafeMetadata) > 0, p.CreatedAt != nil} {
		if present {
			m |= 1 << i
		}
	}
	return m
}
