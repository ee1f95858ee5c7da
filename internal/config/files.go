package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// MaxFileSize bounds what linectl reads from its config directory. A config
// is a few kilobytes; anything past this is not one.
const MaxFileSize = 1 << 20

// kindError is a specific config error that still matches ErrInsecure or
// ErrCorrupt with errors.Is, so callers map it like its kind.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// More specific config errors (each matches ErrInsecure or ErrCorrupt).
var (
	// ErrSymlink: a lock file is a symbolic link, or a config link points nowhere.
	ErrSymlink error = &kindError{"refusing to follow a symbolic link", ErrInsecure}
	// ErrUnsafeDir: the config directory is usable by other users and not yours to fix.
	ErrUnsafeDir error = &kindError{"config directory is not private", ErrInsecure}
	// ErrNotRegular: the config is a FIFO, a device, a socket…
	ErrNotRegular error = &kindError{"config file is not a regular file", ErrCorrupt}
	// ErrTooLarge: the config is larger than MaxFileSize.
	ErrTooLarge error = &kindError{"config file is too large", ErrCorrupt}
)

// readBounded returns the contents of the regular file at path (following a
// symbolic link), nil when it does not exist. A FIFO, device or socket is
// refused before it is opened, and the file is opened non-blocking and read
// to at most MaxFileSize bytes, so no path can hang linectl or fill its memory.
func readBounded(path string) (b []byte, st fs.FileInfo, err error) {
	err = rereadReplaced(func() error { b, st, err = readBoundedOnce(path); return err })
	return b, st, err
}

// errReplaced: the file was replaced between its stat and its open — by
// another linectl process saving it (write a temporary file, rename it
// over the old): read again, the new file. replacedTries bounds the rereads.
var errReplaced = errors.New("the file changed while it was opened")

const replacedTries = 5

// rereadReplaced runs read until it does not find the file replaced, at
// most replacedTries times, and returns its last error.
func rereadReplaced(read func() error) (err error) {
	for range replacedTries {
		if err = read(); !errors.Is(err, errReplaced) {
			break
		}
	}
	return err
}

func readBoundedOnce(path string) ([]byte, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, nil, fmt.Errorf("%w: %s is a directory", ErrCorrupt, path)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s is a %s; linectl reads only regular files", ErrNotRegular, path, typeName(st.Mode()))
	}
	if st.Size() > MaxFileSize {
		return nil, nil, fmt.Errorf("%w: %s is %d bytes (the limit is %d)", ErrTooLarge, path, st.Size(), MaxFileSize)
	}
	fh, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("read config %s: %w", path, err)
	}
	defer fh.Close()
	if st2, err := fh.Stat(); err != nil || !os.SameFile(st, st2) || !st2.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrNotRegular, path, errReplaced)
	}
	b, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return nil, nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, path, MaxFileSize)
	}
	if b == nil {
		b = []byte{}
	}
	return b, st, nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "FIFO (named pipe)"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	default:
		return "special file (" + m.Type().String() + ")"
	}
}

// writeTarget is the file a write to path replaces: path itself, or the
// target of the symbolic link at path, so a linked config is updated where
// it lives (atomically, in the target's directory) rather than replaced by
// a regular file while the target keeps old tokens. A link to a missing or
// unreachable target is refused: no file is created through a link.
func writeTarget(path string) (string, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", fmt.Errorf("write config %s: %w", path, err)
	}
	if st.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		dest, _ := os.Readlink(path)
		return "", fmt.Errorf("%w: %s is a link to %s, which does not exist; create the target or remove the link (linectl creates no file through a link)",
			ErrSymlink, path, dest)
	}
	return target, nil
}

// checkLockPath refuses a lock path that is a symbolic link (or anything
// but a regular file), before it is opened.
func checkLockPath(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: lock file %s is a symbolic link; remove it (rm %s) and run again", ErrSymlink, path, path)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: lock file %s is a %s; remove it and run again", ErrNotRegular, path, typeName(st.Mode()))
	}
	return nil
}

// ensureDir creates dir 0700 if it does not exist. An existing directory
// that other users can use is made 0700 when it is the user's own (note
// says so, for the caller to tell the user) and refused when it is not.
// The user's home directory itself is never changed.
func ensureDir(dir string) (note string, err error) {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create config directory: %w", err)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("config directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%w: %s is not a directory", ErrCorrupt, dir)
	}
	return fixDirMode(dir, st)
}

// ReadFile reads a state file beside the config (receive position, name
// cache) under the config's rules: only a regular file of at most
// MaxFileSize bytes, never blocking on a FIFO or device. A missing file is
// (nil, nil).
func ReadFile(path string) ([]byte, error) {
	b, _, err := readBounded(path)
	return b, err
}

// DiskError is a failure of the disk itself while saving state: no space
// left, over quota, a read-only file system, an I/O error. It is the
// environment's fault, not linectl's or the config's; the message names the
// path and says what to do.
type DiskError struct {
	Path string
	Err  error
}

func (e *DiskError) Error() string {
	what := "the disk reported an error"
	switch {
	case errors.Is(e.Err, syscall.ENOSPC), errors.Is(e.Err, syscall.EDQUOT):
		what = "the disk is full (or over quota): free some space and run again"
	case errors.Is(e.Err, syscall.EROFS):
		what = "the file system is read-only: remount it read-write or use --config elsewhere"
	case errors.Is(e.Err, syscall.EIO):
		what = "the disk reported an I/O error"
	}
	cause := e.Err
	var errno syscall.Errno
	if errors.As(e.Err, &errno) {
		cause = errno
	}
	return fmt.Sprintf("cannot write %s: %v; %s", e.Path, cause, what)
}

func (e *DiskError) Unwrap() error { return e.Err }

// diskErrnos are the errors that mean the disk, not linectl, is at fault.
var diskErrnos = []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO}

// IsDiskError reports whether err is a full, read-only or failing disk.
func IsDiskError(err error) bool {
	var de *DiskError
	if errors.As(err, &de) {
		return true
	}
	for _, e := range diskErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// asDiskError wraps err in a *DiskError naming path when the disk is at
// fault, and returns it unchanged otherwise.
func asDiskError(path string, err error) error {
	var de *DiskError
	if err == nil || errors.As(err, &de) || !IsDiskError(err) {
		return err
	}
	return &DiskError{Path: path, Err: err}
}

// The files beside the config are internal/state's: it names them, and
// reads and writes them with ReadFile, ReadPrivateFile and WriteFileAtomic
// (0600, temp file, fsync, rename, directory fsync) in the config's 0700
// directory.

// ReadPrivateFile reads a file of secrets beside the config (the Letter
// Sealing key store) under ReadFile's rules and two more: it is not read
// through a symbolic link, and a file others may read is refused
// (ErrInsecure) — what = what it holds, for the message. At most max bytes.
// A missing file is (nil, nil).
func ReadPrivateFile(path, what string, max int64) (b []byte, err error) {
	err = rereadReplaced(func() error { b, err = readPrivateOnce(path, what, max); return err })
	return b, err
}

func readPrivateOnce(path, what string, max int64) ([]byte, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file (%s); linectl will not use or replace it", ErrCorrupt, path, typeName(st.Mode()))
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o and holds %s; run: chmod 600 %s", ErrInsecure, path, st.Mode().Perm(), what, path)
	}
	fh, err := os.OpenFile(path, os.O_RDONLY|openNonBlock|openNoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer fh.Close()
	if st2, err := fh.Stat(); err != nil || !os.SameFile(st, st2) {
		return nil, fmt.Errorf("read %s: %w", path, errReplaced)
	}
	b, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, path, max)
	}
	return b, nil
}
