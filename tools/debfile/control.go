package debfile

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/deb822"
)

// readControl reads the members of control.tar and parses "control".
func (d *Deb) readControl(e *arEntry) error {
	zr, c, err := decompress(e.name, io.NewSectionReader(d.r, e.off, e.size))
	if err != nil {
		return err
	}
	defer c.Close()
	tr := tar.NewReader(zr)
	var control []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "./")
		if h.Typeflag != tar.TypeReg || strings.Contains(name, "/") || name == "" {
			continue
		}
		if h.Size > 64<<20 {
			return fmt.Errorf("%s: member too large (%d bytes)", name, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if name == "control" {
			control = b
			continue
		}
		d.Members[name] = b
		d.Modes[name] = h.Mode & 0o7777
	}
	if control == nil {
		return errors.New("control member missing")
	}
	return d.parseControl(string(control))
}

// parseControl sets Paragraph and the fields taken from it.
func (d *Deb) parseControl(control string) error {
	p, err := deb822.Parse(control)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	d.Paragraph = p
	d.Package = p.Get("Package")
	d.Version = p.Get("Version")
	d.Architecture = p.Get("Architecture")
	d.MultiArch = p.Get("Multi-Arch")
	if d.Package == "" || d.Version == "" || d.Architecture == "" {
		return fmt.Errorf("control: Package, Version and Architecture are required")
	}
	return nil
}

// Field returns the value of the named control field (case-insensitive
// name), as deb822 reads it, or "" if the field is absent.
func (d *Deb) Field(name string) string {
	return d.Paragraph.Get(name)
}

// MemberNames returns the names of the members other than control, sorted.
func (d *Deb) MemberNames() []string {
	names := make([]string, 0, len(d.Members))
	for n := range d.Members {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Conffiles returns the absolute paths listed in the conffiles member.
// Lines with flags ("/etc/x remove-on-upgrade") yield only the path.
func (d *Deb) Conffiles() []string {
	var out []string
	for _, l := range strings.Split(string(d.Members["conffiles"]), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}
