package layer

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ci-images/ci-images/tools/internal/debtest"
)

// The rule of "Paths and symbolic links" (package documentation): ".." components in member
// names and hard link targets are refused, naming the package and the path; symlink targets
// are kept as shipped, with a warning naming the package for a relative one that climbs above
// the root.
func TestPathsAndSymlinks(t *testing.T) {
	ok := debtest.File{Path: "usr/share/doc/evil/copyright", Body: "GPL\n"}
	for _, tc := range []struct {
		name  string
		files []debtest.File
		// installed: the package is in a lower layer (Options.Installed).
		installed bool
		merged    bool
		wantErr   string   // "" for success
		warnings  []string // the layer's warnings
		links     []string // "path>target" of the symlinks in the layer
	}{
		{name: "dot-dot member name",
			files:   []debtest.File{ok, {RawName: "./usr/../../etc/cron.d/evil", Body: "* * * * * root sh\n"}},
			wantErr: `layer: evil_1_all.deb: data.tar.xz: package evil: ./usr/../../etc/cron.d/evil: path with a ".." component (refused: dpkg would write it outside its root)`},
		{name: "dot-dot that stays inside is refused too",
			files:   []debtest.File{{RawName: "./usr/share/../bin/x", Body: "x"}},
			wantErr: `layer: evil_1_all.deb: data.tar.xz: package evil: ./usr/share/../bin/x: path with a ".." component`},
		{name: "trailing dot-dot directory",
			files:   []debtest.File{{RawName: "./usr/share/..", Dir: true}},
			wantErr: `layer: evil_1_all.deb: data.tar.xz: package evil: ./usr/share/..: path with a ".." component`},
		{name: "dot-dot in an installed package",
			files: []debtest.File{{RawName: "./../escape", Body: "x"}}, installed: true,
			wantErr: `layer: evil_1_all.deb: data.tar.xz: package evil: ./../escape: path with a ".." component`},
		{name: "hard link to a dot-dot path",
			files:   []debtest.File{ok, {RawName: "./usr/bin/sh", Hardlink: "./usr/../../etc/shadow"}},
			wantErr: `layer: evil_1_all.deb: data.tar.xz: package evil: ./usr/bin/sh: hard link to ./usr/../../etc/shadow, a path with a ".." component (refused)`},
		{name: "dots inside a name are no component",
			files: []debtest.File{{Path: "usr/share/doc/a..b", Body: "x"}, {Path: "usr/share/..c", Body: "y"}}},
		{name: "absolute targets are normal",
			files: []debtest.File{{Path: "etc/evil/shadow", Link: "/etc/shadow"}, {Path: "usr/lib/evil/up", Link: "/../../etc/passwd"}},
			links: []string{"etc/evil/shadow>/etc/shadow", "usr/lib/evil/up>/../../etc/passwd"}},
		{name: "relative targets inside the root",
			files: []debtest.File{{Path: "usr/lib/evil/a", Link: "../../../etc/a"}, {Path: "usr/lib/evil/b", Link: "./x/../../b"}},
			links: []string{"usr/lib/evil/a>../../../etc/a", "usr/lib/evil/b>./x/../../b"}},
		{name: "relative target climbing above the root: kept, with a warning",
			files: []debtest.File{{Path: "usr/lib/evil/up", Link: "../../../../etc/shadow"}, {Path: "top", Link: "../x"}},
			warnings: []string{
				"evil: /usr/lib/evil/up: symlink target ../../../../etc/shadow climbs above the root (kept as shipped; in the image it resolves to /etc/shadow)",
				"evil: /top: symlink target ../x climbs above the root (kept as shipped; in the image it resolves to /x)",
			},
			links: []string{"top>../x", "usr/lib/evil/up>../../../../etc/shadow"}},
		{name: "merged /usr: judged where the package put it",
			files: []debtest.File{{Path: "bin/up", Link: "../../etc/shadow"}}, merged: true,
			warnings: []string{"evil: /bin/up: symlink target ../../etc/shadow climbs above the root (kept as shipped; in the image it resolves to /etc/shadow)"},
			links:    []string{"bin>usr/bin", "lib>usr/lib", "sbin>usr/sbin", "usr/bin/up>../../etc/shadow"}},
		{name: "installed packages were warned about in their own layer",
			files: []debtest.File{{Path: "usr/lib/evil/up", Link: "../../../../etc/shadow"}}, installed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evil := debtest.Deb{Package: "evil", Version: "1", Architecture: "all", Files: tc.files}
			other := debtest.Deb{Package: "other", Version: "1", Architecture: "all", Files: []debtest.File{{Path: "usr/share/other", Body: "o"}}}
			opts := Options{Config: Config{NoDpkgDatabase: true, MergedUsr: tc.merged}, TempDir: t.TempDir(), SourceDateEpoch: testEpoch.Unix()}
			debs := inputs(t, evil, other)
			if tc.installed {
				opts.Installed, debs = debs[:1], debs[1:]
			}
			var buf bytes.Buffer
			sum, err := Write(&buf, debs, opts)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sum.Warnings, tc.warnings) {
				t.Errorf("warnings %q, want %q", sum.Warnings, tc.warnings)
			}
			names, m := readTar(t, buf.Bytes())
			var links []string
			for _, n := range names {
				if h := m[n].hdr; h.Linkname != "" {
					links = append(links, n+">"+h.Linkname)
				}
			}
			if !slices.Equal(links, tc.links) {
				t.Errorf("symlinks %q, want %q", links, tc.links)
			}
		})
	}
}
