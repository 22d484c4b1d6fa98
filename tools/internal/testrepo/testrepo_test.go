package testrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/ci-images/ci-images/tools/deb822"
)

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, b
}

func TestServedRepository(t *testing.T) {
	l := PGDG(t)
	s := l.Main
	code, in := get(t, s.URL+"/dists/bookworm-pgdg/InRelease")
	if code != 200 {
		t.Fatalf("InRelease: %d", code)
	}
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(ArmoredPublicKey(t, s.Key)))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := clearsign.Decode(in)
	if block == nil {
		t.Fatal("InRelease is not clearsigned")
	}
	if _, err := block.VerifySignature(keys, nil); err != nil {
		t.Fatalf("InRelease signature: %v", err)
	}
	if !bytes.Equal(block.Plaintext, s.File("dists/bookworm-pgdg/Release")) {
		t.Error("InRelease text differs from Release")
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(keys, bytes.NewReader(s.File("dists/bookworm-pgdg/Release")),
		bytes.NewReader(s.File("dists/bookworm-pgdg/Release.gpg")), nil); err != nil {
		t.Fatalf("Release.gpg: %v", err)
	}
	rel, err := deb822.Parse(string(block.Plaintext))
	if err != nil {
		t.Fatal(err)
	}
	if rel.Get("Components") != "16 17 main" || rel.Get("Architectures") != "amd64 arm64" || rel.Has("Acquire-By-Hash") {
		t.Errorf("Release: %s", rel)
	}
	// Every listed file is served with the listed hash; every .deb listed
	// in the Packages files is served with its hash.
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(rel.Get("SHA256")), "\n") {
		f := strings.Fields(line)
		code, data := get(t, s.URL+"/dists/bookworm-pgdg/"+f[2])
		sum := sha256.Sum256(data)
		if code != 200 || hex.EncodeToString(sum[:]) != f[0] {
			t.Errorf("%s: %d, hash mismatch", f[2], code)
		}
		if strings.HasSuffix(f[2], "/Packages") {
			ps, err := deb822.ParseAll(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				code, deb := get(t, s.URL+"/"+p.Get("Filename"))
				sum := sha256.Sum256(deb)
				if code != 200 || hex.EncodeToString(sum[:]) != p.Get("SHA256") {
					t.Errorf("%s: bad .deb", p.Get("Filename"))
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Error("no packages")
	}
	if code, _ := get(t, s.URL+"/dists/nope/InRelease"); code != 404 {
		t.Errorf("unknown suite: %d", code)
	}
	// The archive holds old minors the main repository lacks.
	_, pk := get(t, l.Archive.URL+"/dists/bookworm-pgdg-archive/main/binary-amd64/Packages")
	if !bytes.Contains(pk, []byte("Version: "+PG16First)) || bytes.Contains(s.File("dists/bookworm-pgdg/main/binary-amd64/Packages"), []byte(PG16First)) {
		t.Error("archive/main split is wrong")
	}
}

func TestTamperHelpers(t *testing.T) {
	d, _ := DebianSpec()
	s := Serve(t, d)
	const p = "dists/bookworm/main/binary-amd64/Packages.xz"
	orig := s.File(p)
	sum := sha256.Sum256(orig)
	alias := "dists/bookworm/main/binary-amd64/by-hash/SHA256/" + hex.EncodeToString(sum[:])
	s.Corrupt(p)
	if _, b := get(t, s.URL+"/"+alias); bytes.Equal(b, orig) || len(b) != len(orig) {
		t.Error("Corrupt did not reach the by-hash alias")
	}
	s.Truncate(p, 10)
	if resp, err := http.Get(s.URL + "/" + p); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Error("truncated response read without error")
		}
	}
	s.Delete(p)
	if code, _ := get(t, s.URL+"/"+p); code != 404 {
		t.Errorf("deleted file: %d", code)
	}
	s.SetStatus(alias, 503)
	if code, _ := get(t, s.URL+"/"+alias); code != 503 {
		t.Errorf("SetStatus: %d", code)
	}
	if got := s.Requests(); len(got) != 4 || !strings.HasPrefix(got[0], "/debian/dists/") {
		t.Errorf("requests: %q", got)
	}
}

// TestAptAcceptsRepository runs the real apt-get (update + download) in
// a private directory against the served Debian layout, when apt-get and
// gpgv are installed.
func TestAptAcceptsRepository(t *testing.T) {
	for _, tool := range []string{"apt-get", "gpgv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	l := Debian(t)
	dir := t.TempDir()
	for _, d := range []string{"lists/partial", "cache/archives/partial", "etc/preferences.d", "etc/apt.conf.d", "log", "dl"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "status"), nil, 0o644)
	sources := "deb [signed-by=" + l.Debian.KeyringPath + "] " + l.Debian.URL + " bookworm main\n" +
		"deb [signed-by=" + l.Debian.KeyringPath + "] " + l.Debian.URL + " bookworm-updates main\n" +
		"deb [signed-by=" + l.Security.KeyringPath + "] " + l.Security.URL + " bookworm-security main\n"
	os.WriteFile(filepath.Join(dir, "etc/sources.list"), []byte(sources), 0o644)
	apt := func(args ...string) string {
		t.Helper()
		base := []string{
			"-o", "Dir::Etc=" + filepath.Join(dir, "etc"),
			"-o", "Dir::Etc::SourceList=" + filepath.Join(dir, "etc/sources.list"),
			"-o", "Dir::Etc::SourceParts=" + filepath.Join(dir, "etc/none"),
			"-o", "Dir::State=" + dir,
			"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
			"-o", "Dir::State::status=" + filepath.Join(dir, "status"),
			"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
			"-o", "Dir::Log=" + filepath.Join(dir, "log"),
			"-o", "Debug::NoLocking=1",
			"-o", "APT::Sandbox::User=" + currentUser(),
			"-o", "APT::Architecture=amd64",
			"-o", "Acquire::Languages=none",
			"-o", "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false",
		}
		cmd := exec.Command("apt-get", append(base, args...)...)
		cmd.Dir = filepath.Join(dir, "dl")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := apt("update")
	if strings.Contains(out, "W: ") || strings.Contains(out, "E: ") {
		t.Fatalf("apt-get update complained:\n%s", out)
	}
	apt("download", "mawk", "libssl3", "tzdata")
	for _, want := range []string{
		"mawk_1.3.4.20200120-3.1_amd64.deb",
		"libssl3_" + Libssl3SecVersion + "_amd64.deb",
		"tzdata_" + TzdataUpdatesVersion + "_all.deb",
	} {
		if _, err := os.Stat(filepath.Join(dir, "dl", strings.ReplaceAll(want, ":", "%3a"))); err != nil {
			t.Errorf("apt-get download: %v", err)
		}
	}
}

func currentUser() string {
	if os.Getuid() == 0 {
		return "root"
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "nobody"
}
