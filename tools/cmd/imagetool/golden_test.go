package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/internal/debtest"
)

// Every layer and image digest must stay what it is unless a change means to alter them (the
// reproducibility check and the published images depend on it). TestGoldenDigests runs `layer`
// and `image` the way the Bazel rules do (a params file, the rules' JSON configurations, the
// recorded diff_id) on packages that exercise every part of the layer writer, and compares the
// outputs with digests recorded by the imagetool of commit 2e7691e, before tools/layer was
// split up.
func TestGoldenDigests(t *testing.T) {
	dir := t.TempDir()
	base := writeDebs(t, filepath.Join(dir, "debs", "base"), goldenBase())
	upper := writeDebs(t, filepath.Join(dir, "debs", "upper"), goldenUpper())
	out := func(name string) string { return filepath.Join(dir, name) }
	layer := func(name, cfg, compression string, epoch int, debs, installed []string) {
		t.Helper()
		cfgFile := out(name + ".layer.json")
		writeFile(t, cfgFile, strings.Replace(cfg, `"compression": "gzip"`, `"compression": "`+compression+`"`, 1))
		params := []string{"-out", out(name), "-diffid", out(name + ".diffid"), "-config", cfgFile, "-epoch", fmt.Sprint(epoch)}
		for _, i := range installed {
			params = append(params, "-installed", i)
		}
		writeFile(t, out(name+".params"), strings.Join(append(params, debs...), "\n")+"\n")
		if code, _, errs := runCmd(t, "layer", "@"+out(name+".params")); code != 0 {
			t.Fatalf("layer %s: exit %d\n%s", name, code, errs)
		}
	}
	image := func(name, cfg string, epoch int, base string, layers ...string) {
		t.Helper()
		writeFile(t, out(name+".image.json"), cfg)
		args := []string{"image", "-out", out(name), "-digest", out(name + ".digest"), "-config", out(name + ".image.json"), "-epoch", fmt.Sprint(epoch)}
		if base != "" {
			args = append(args, "-base", out(base))
		}
		for _, l := range layers {
			args = append(args, "-layer", l)
		}
		if code, _, errs := runCmd(t, args...); code != 0 {
			t.Fatalf("image %s: exit %d\n%s", name, code, errs)
		}
	}
	layer("base.tar.gz", goldenBaseLayer, "gzip", 0, base, nil)
	layer("upper.tar.gz", goldenUpperLayer, "gzip", 0, upper, base)
	layer("upper_zstd.tar.zst", goldenUpperLayer, "zstd", 1700000000, upper, base)
	layer("upper_none.tar", goldenUpperLayer, "none", 1700000000, upper, base)
	layer("nodb.tar.gz", goldenNoDBLayer, "gzip", 1500000000, upper, nil)
	image("base", goldenBaseImage, 0, "", out("base.tar.gz")+"="+out("base.tar.gz.diffid"))
	image("upper", goldenUpperImage, 0, "base", out("upper.tar.gz")+"="+out("upper.tar.gz.diffid"))
	// Layers without a recorded diff_id: plain (compressed by image), zstd, gzip.
	image("mixed", goldenUpperImage, 1700000000, "base", out("upper_none.tar"), out("upper_zstd.tar.zst"), out("nodb.tar.gz"))

	for file, want := range map[string]string{
		"base.tar.gz":               "e1c07194962a3e659c10c58334174ff794d2d3895eaf9b84f6ce055ebd110142",
		"upper.tar.gz":              "b0f069167e6d19e493dc829a19d3da36ffa04451166721923ea6ab45a874af26",
		"upper_zstd.tar.zst":        "3609aa5e7f765a50d25c99e0687275834c39bf71a4e04a73d82fa34531a39d3f",
		"upper_none.tar":            "a5e71770d3bedc81f74e542f3ecac9e1a67eae8654acc162acd50d51d3565619",
		"nodb.tar.gz":               "ca858d1ec33a196dec3e24d131dbf771b3a8d9822ba1e21dee57129f2fe9113d",
		"base.tar.gz.diffid":        "sha256:8e949eb20c5e5f005311a5271f0bed7179b7b5e079a8d155dc407f2af37c2264",
		"upper.tar.gz.diffid":       "sha256:2fd1e82f87c60073c4abfb91ff0bb89cdfca286586f98b85033e5e32c03a1ad1",
		"upper_zstd.tar.zst.diffid": "sha256:a5e71770d3bedc81f74e542f3ecac9e1a67eae8654acc162acd50d51d3565619",
		"base.digest":               "sha256:312f017ab7cdbec2489c884655c744c9f582f20df2add1d52476f861b65b06f3",
		"upper.digest":              "sha256:9a35bc2818c6b03c3ed7b5dd0419944a5414b32bf997bad9c83acfa822392ddc",
		"mixed.digest":              "sha256:f877ec2e10cb5422194750a815c2add28c1f536d2402a5bd91d1857c143588d0",
	} {
		b, err := os.ReadFile(out(file))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimSpace(string(b))
		if !strings.HasPrefix(want, "sha256:") {
			sum := sha256.Sum256(b)
			got = hex.EncodeToString(sum[:])
		}
		if got != want {
			t.Errorf("%s: %s, want %s", file, got, want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeDebs builds the packages into dir and returns their paths, sorted by file name.
func writeDebs(t *testing.T, dir string, debs []debtest.Deb) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range debs {
		b, err := debtest.Build(d)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, d.Package+"_"+d.Version+"_"+d.Architecture+".deb"), string(b))
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// The configurations as tools/rules writes them: deb_layer's for images/defs.bzl's base and
// per-image layers (users, groups and directories of the postgres images), and oci_image's.
const (
	goldenBaseLayer  = `{"alternatives": true, "ca_certificates": true, "compression": "gzip", "dirs": [], "diversions": [], "groups": [], "merged_usr": true, "no_dpkg_database": false, "users": []}`
	goldenUpperLayer = `{"alternatives": true, "ca_certificates": true, "compression": "gzip", ` +
		`"dirs": [{"group": "postgres", "mode": 1535, "owner": "postgres", "path": "var/run/postgresql"}, {"group": "postgres", "mode": 1021, "owner": "root", "path": "var/log/postgresql"}, {"group": "postgres", "mode": 493, "owner": "postgres", "path": "etc/postgresql"}], ` +
		`"diversions": [], "groups": [{"gid": 998, "name": "ssl-cert"}], "merged_usr": true, "no_dpkg_database": false, ` +
		`"users": [{"create_home": true, "gecos": "PostgreSQL administrator", "gid": 999, "group": "postgres", "groups": ["ssl-cert"], "home": "/var/lib/postgresql", "name": "postgres", "shell": "/bin/bash", "uid": 999}, ` +
		`{"create_home": true, "gecos": "CI user", "gid": 1000, "group": "circleci", "home": "/home/circleci", "name": "circleci", "shell": "/bin/bash", "uid": 1000}]}`
	goldenNoDBLayer  = `{"alternatives": false, "ca_certificates": false, "compression": "gzip", "dirs": [], "diversions": [], "groups": [], "merged_usr": false, "no_dpkg_database": true, "users": []}`
	goldenBaseImage  = `{"annotations": {}, "architecture": "", "cmd": ["/bin/bash"], "entrypoint": null, "env": ["LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "exposed_ports": [], "labels": {"org.ci-images.lock-inputs-sha256": "abc", "org.ci-images.package-set": "base"}, "os": "", "user": "", "workdir": ""}`
	goldenUpperImage = `{"annotations": {"org.opencontainers.image.title": "upper_15"}, "architecture": "", "cmd": ["/bin/bash"], "entrypoint": null, "env": ["LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PGDATA=/x"], "exposed_ports": ["5432/tcp"], "labels": {"org.ci-images.lock-inputs-sha256": "abc", "org.ci-images.package-set": "upper_15", "org.ci-images.pg-version": "15"}, "os": "", "user": "postgres", "workdir": "/var/lib/postgresql"}`
)

// goldenBase is a base system: base-passwd's master files, merged-/usr paths, hard and
// relative symbolic links, conffiles, Multi-Arch: same, CA certificates, alternatives and a
// diversion that cannot be read statically.
func goldenBase() []debtest.Deb {
	return []debtest.Deb{
		{Package: "base-passwd", Version: "3.6.1", Architecture: "amd64", Essential: true, Priority: "required",
			Description: "Debian base system master password and group files\n These are the canonical master copies of the user database\n files (/etc/passwd and /etc/group).\n .\n The update-passwd tool is also provided.",
			Files: []debtest.File{
				{Path: "usr/share/base-passwd/passwd.master", Body: "root:*:0:0:root:/root:/bin/bash\ndaemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"},
				{Path: "usr/share/base-passwd/group.master", Body: "root:*:0:\ndaemon:*:1:\nshadow:*:42:\nsudo:*:27:\nnogroup:*:65534:\n"},
				{Path: "usr/sbin/update-passwd", Body: "bin", Mode: 0o755},
			}},
		{Package: "coreutils", Version: "9.1-1", Architecture: "amd64", MultiArch: "foreign", Essential: true,
			Priority: "required", Section: "utils", PreDepends: "libc6 (>= 2.34)", Replaces: "mktemp, realpath, timeout",
			Extra:       [][2]string{{"Homepage", "http://gnu.org/software/coreutils"}, {"Built-Using", "glibc (= 2.36-9)"}},
			Description: "GNU core utilities\n This package contains the basic file, shell and text manipulation\n utilities which are expected to exist on every operating system.",
			Files: []debtest.File{
				{Path: "usr/share/doc/coreutils/copyright", Body: "GPL\n"},
				{Path: "bin/ls", Body: "ls-binary", Mode: 0o755},
				{Path: "bin/cat", Body: "cat-binary", Mode: 0o755, ModTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
				{Path: "sbin/chroot", Body: "chroot", Mode: 0o755},
				{Path: "usr/bin/env", Body: "env", Mode: 0o755},
				{Path: "bin/dir", Hardlink: "bin/ls"},
				{Path: "lib/relative", Link: "../usr/lib/thing"},
				{Path: "lib/sibling", Link: "relative"},
				{Path: "etc/coreutils.conf", Body: "conf\n"},
				{Path: "var/spool/cron", Dir: true, Mode: 0o1730, Gid: 101, Gname: "crontab"},
			},
			Scripts: map[string]string{"postinst": "#!/bin/sh\nexit 0\n", "conffiles": "/etc/coreutils.conf\n/etc/gone remove-on-upgrade\n"}},
		{Package: "libfoo1", Version: "1.0-1", Architecture: "amd64", MultiArch: "same",
			Files: []debtest.File{
				{Path: "lib/x86_64-linux-gnu/libfoo.so.1", Body: "lib"},
				{Path: "usr/share/doc/libfoo1/copyright", Body: "GPL\n"},
			},
			Scripts: map[string]string{"triggers": "activate-noawait ldconfig\n", "shlibs": "libfoo 1 libfoo1\n"}},
		{Package: "ca-certificates", Version: "20230311", Architecture: "all",
			Files: []debtest.File{
				{Path: "usr/share/ca-certificates/mozilla/B_Root.crt", Body: "-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n"},
				{Path: "usr/share/ca-certificates/mozilla/A_Root.crt", Body: "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----"},
				{Path: "usr/sbin/update-ca-certificates", Body: "sh", Mode: 0o755},
			}},
		{Package: "dash", Version: "0.5.12-2", Architecture: "amd64", Essential: true,
			Files: []debtest.File{{Path: "bin/dash", Body: "dash", Mode: 0o755}, {Path: "usr/share/man/man1/dash.1.gz", Body: "man"}},
			Scripts: map[string]string{"postinst": "#!/bin/sh\nset -e\ndftarget=/bin/sh.distrib\nadd_shell() { :; }\ndivert() {\n\tdfile=$1\n\tltarget=$2\n" +
				"\tdpkg-divert --package dash --divert \"$dfile.distrib\" --add \"$dfile\"\n}\ndivert /bin/sh\nupdate-alternatives --install /usr/bin/sh sh /bin/dash 10\n"}},
		{Package: "gcc", Version: "4:12.2.0-3", Architecture: "amd64",
			Files: []debtest.File{{Path: "usr/bin/gcc", Link: "gcc-12"}, {Path: "usr/bin/gcc-12", Body: "gcc", Mode: 0o755}, {Path: "usr/bin/c99-gcc", Body: "c99", Mode: 0o755},
				{Path: "usr/share/man/man1/c99-gcc.1.gz", Body: "man"}},
			Scripts: map[string]string{"postinst": "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\nupdate-alternatives --quiet \\\n    --install /usr/bin/cc cc /usr/bin/gcc 20 \\\n" +
				"    #--slave /usr/share/man/man1/cc.1.gz cc.1.gz /usr/share/man/man1/gcc.1.gz\n\nupdate-alternatives --quiet \\\n" +
				"    --install /usr/bin/c99 c99 /usr/bin/c99-gcc 20 \\\n    --slave /usr/share/man/man1/c99.1.gz c99.1.gz /usr/share/man/man1/c99-gcc.1.gz\n" +
				"update-alternatives --install /usr/bin/thing thing /usr/bin/$VERSION 10 || true\nfi\n"}},
	}
}

// goldenUpper is a layer above goldenBase: alternatives joining the base's, a diversion of a
// file of another package, Replaces, another CA certificate, a body over 1 MiB (several gzip
// blocks) and a zstd-compressed package with a hard link.
func goldenUpper() []debtest.Deb {
	var big strings.Builder
	r := rand.New(rand.NewPCG(1, 2))
	for big.Len() < 3<<20 {
		fmt.Fprintf(&big, "line %d %x\n", r.IntN(1000), r.Uint64()&0xffff)
	}
	return []debtest.Deb{
		{Package: "clang", Version: "1", Architecture: "amd64",
			Files:   []debtest.File{{Path: "usr/bin/clang", Body: "clang", Mode: 0o755}, {Path: "bin/lowcc", Body: "x"}},
			Scripts: map[string]string{"postinst": "update-alternatives --install /usr/bin/cc cc /usr/bin/clang 10; update-alternatives --install /usr/bin/low low /bin/lowcc 5\n"}},
		{Package: "libpq-dev", Version: "15.8-0+deb12u1", Architecture: "amd64", Depends: "libpq5 (= 15.8-0+deb12u1), libssl-dev",
			Files: []debtest.File{{Path: "usr/bin/pg_config", Body: "#!/usr/bin/perl\n", Mode: 0o755}, {Path: "usr/include/postgresql/libpq-fe.h", Body: "h"}}},
		{Package: "postgresql-common", Version: "248", Architecture: "all",
			Files: []debtest.File{{Path: "usr/bin/pg_config", Body: "#!/bin/sh\n", Mode: 0o755}, {Path: "etc/postgresql-common/createcluster.conf", Body: "x\n"},
				{Path: "usr/share/postgresql-common/pg_wrapper", Body: "w", Mode: 0o755}},
			Scripts: map[string]string{
				"conffiles": "/etc/postgresql-common/createcluster.conf\n",
				"preinst": "#!/bin/sh\nset -e\ncase \"$1\" in\n    install|upgrade)\n" +
					"        dpkg-divert --package postgresql-common --no-rename --divert /usr/bin/pg_config.libpq-dev --add /usr/bin/pg_config\n        ;;\n" +
					"    abort-upgrade)\n        dpkg-divert --remove /usr/bin/pg_config\n        ;;\nesac\n",
				"postinst": "#!/bin/sh\nif [ \"$1\" = configure ]; then\n  update-alternatives --install /usr/bin/pgw pgw /usr/share/postgresql-common/pg_wrapper 5\nfi\n",
			}},
		{Package: "pkg-a", Version: "1", Architecture: "all",
			Files: []debtest.File{{Path: "usr/share/x/file", Body: "a"}, {Path: "usr/share/same", Body: "s"}}},
		{Package: "pkg-b", Version: "2", Architecture: "all", Replaces: "pkg-a (<< 2)",
			Files: []debtest.File{{Path: "usr/share/x/file", Body: "b"}, {Path: "usr/share/same", Body: "s"}}},
		{Package: "extra-ca", Version: "1", Architecture: "all",
			Files: []debtest.File{{Path: "usr/share/ca-certificates/extra/C_Root.crt", Body: "-----BEGIN CERTIFICATE-----\nCCC\n-----END CERTIFICATE-----\n"}}},
		{Package: "bigdata", Version: "1", Architecture: "all", Compression: "gz",
			Files: []debtest.File{{Path: "usr/share/bigdata/data.txt", Body: big.String()}}},
		{Package: "libbar2", Version: "2.0-1", Architecture: "amd64", MultiArch: "same", Compression: "zst",
			Files: []debtest.File{{Path: "usr/lib/x86_64-linux-gnu/libbar.so.2", Body: "bar"}, {Path: "usr/lib/x86_64-linux-gnu/libbar.so.2.0", Hardlink: "usr/lib/x86_64-linux-gnu/libbar.so.2"}}},
	}
}
