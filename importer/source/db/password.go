package db

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadPasswordFile reads a database password from a file (the CLI's password-file flag): the
// first line, without its line end. A password never comes from a flag value.
func ReadPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("password file %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4<<10))
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("password file " + path + " is empty")
	}
	return line, nil
}
