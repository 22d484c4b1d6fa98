package fidelity

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/klauspost/compress/zstd"
)

// writeTarZst writes the tree below root as a zstd-compressed tar at path: entries in
// lexical order, numeric owners, hard links as regular files (fsdiff reads them so anyway).
// Sockets are left out (tar cannot hold them).
func writeTarZst(root, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, err := zstd.NewWriter(bw, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == root || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		return addToTar(tw, root, name)
	})
	if err != nil {
		return fmt.Errorf("archiving %s: %w", root, err)
	}
	for _, c := range []io.Closer{tw, zw} {
		if err := c.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func addToTar(tw *tar.Writer, root, name string) error {
	fi, err := os.Lstat(name)
	if err != nil {
		return err
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(name); err != nil {
			return err
		}
	}
	h, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	rel, err := filepath.Rel(root, name)
	if err != nil {
		return err
	}
	h.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		h.Name += "/"
	}
	st := fi.Sys().(*syscall.Stat_t)
	// FileInfoHeader keeps only the permission bits of fs.FileMode's setuid etc.; take them
	// from stat, and leave names out (numeric ids are what is compared).
	h.Mode = int64(st.Mode & 0o7777)
	h.Uname, h.Gname = "", ""
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	in, err := os.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := io.Copy(tw, in); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// openTarZst opens a tar.zst written by writeTarZst; Close closes the file.
func openTarZst(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	zr, err := zstd.NewReader(bufio.NewReaderSize(f, 1<<20), zstd.WithDecoderConcurrency(1))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &zstdFile{Decoder: zr, f: f}, nil
}

type zstdFile struct {
	*zstd.Decoder
	f *os.File
}

func (z *zstdFile) Close() error {
	z.Decoder.Close()
	return z.f.Close()
}

// removeTree removes dir unless something is mounted at or below it (a chroot whose /proc
// or bind mounts outlived their namespace must not be deleted through).
func removeTree(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("checking mounts before removing %s: %w", dir, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			return fmt.Errorf("not removing %s: %s is mounted", dir, f[4])
		}
	}
	return os.RemoveAll(dir)
}
