package maintscript

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript/pamauth"
)

// generatorCommands are the programs (Perl, Python or ELF in the image) whose output the
// emulation computes itself.
func generatorCommands() map[string]command {
	return map[string]command{
		"update-alternatives": {run: runUpdateAlternatives}, "debconf-emulation": {run: runDebconf},
		"pam-auth-update":        {run: runPamAuthUpdate},
		"update-ca-certificates": {run: runUpdateCACertificates}, "openssl": {run: runOpenssl},
		"ldconfig": {run: runLdconfig}, "ucf": {run: runUcf}, "ucfr": {run: runUcfr},
		"pg_updatedicts": {run: runPgUpdatedicts}, "pg_conftool": {run: runPgConftool},
		"pg_lsclusters": {run: func(*cmdCtx) int { return 0 }}, // no cluster exists (image policy)
		"update-locale": {run: runUpdateLocale},
		"run-parts":     {run: runRunParts},
		"sync":          {noEffect: "flushes buffers to disk only"},
		"dpkg-realpath": {run: runDpkgRealpath},
	}
}

const (
	pamConfigs  = "/usr/share/pam-configs"
	pamSaved    = "/var/lib/pam"
	pamTemplate = "/usr/share/pam"
)

// runPamAuthUpdate is pam-auth-update (--package, --force, --enable, --disable, --remove):
// the profiles enabled are those of the saved state (or, the first time, of debconf's
// libpam-runtime/profiles), plus the unseen ones whose Default is yes.
func runPamAuthUpdate(c *cmdCtx) int {
	s := c.sys()
	force, lists := pamArgs(c.args)
	profiles, sorted := s.pamProfiles(lists["remove"])
	seen := map[string]bool{}
	if b, err := s.fs.read("/", pamSaved+"/seen"); err == nil {
		for _, l := range lines(b) {
			seen[l] = true
		}
	}
	selected, haveSaved := s.pamSavedModules()
	if !haveSaved {
		if s.fs.exists("/", "/etc/pam.d/common-auth") && !force {
			fmt.Fprintln(c.stderr, "pam-auth-update: Local modifications to /etc/pam.d/common-*, not updating.")
			return 0
		}
		s.mu.Lock()
		if v := s.debconf.command("GET", []string{"libpam-runtime/profiles"}); strings.HasPrefix(v, "0 ") && len(v) > 2 {
			selected = strings.Split(v[2:], ", ")
		}
		s.mu.Unlock()
	}
	var kept []string
	for _, n := range append(selected, lists["enable"]...) {
		if !contains(lists["remove"], n) && !contains(lists["disable"], n) {
			kept = append(kept, n)
		}
	}
	for _, n := range lists["disable"] {
		seen[n] = true
	}
	enabled := pamauth.Select(profiles, sorted, kept, seen)
	s.mu.Lock()
	s.debconf.command("SET", []string{"libpam-runtime/profiles", strings.Join(enabled, ", ")})
	s.mu.Unlock()
	if err := s.writePam(profiles, sorted, enabled); err != nil {
		return c.fail("%v", err)
	}
	return 0
}

// pamArgs reads pam-auth-update's options: --force, and the lists of --enable, --disable
// and --remove.
func pamArgs(args []string) (force bool, lists map[string][]string) {
	lists = map[string][]string{}
	cur := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--force":
			force, cur = true, ""
		case a == "--root":
			i++
			cur = ""
		case a == "--enable" || a == "--disable" || a == "--remove":
			cur = a[2:]
		case strings.HasPrefix(a, "--"):
			cur = ""
		case cur != "":
			lists[cur] = append(lists[cur], a)
		}
	}
	return force, lists
}

// pamProfiles reads the profiles (disabled ones dropped) and their sorted names, without
// those being removed.
func (s *System) pamProfiles(removed []string) (map[string]pamauth.Profile, []string) {
	profiles := map[string]pamauth.Profile{}
	names, _ := s.fs.list("/", pamConfigs)
	var keep []string
	for _, n := range names {
		if strings.HasSuffix(n, "~") || strings.HasPrefix(n, "#") && strings.HasSuffix(n, "#") {
			continue
		}
		b, err := s.fs.read("/", pamConfigs+"/"+n)
		if err != nil {
			continue
		}
		if p := pamauth.Parse(b); !p.Disabled {
			profiles[n] = p
			if !contains(removed, n) {
				keep = append(keep, n)
			}
		}
	}
	return profiles, pamauth.Sort(profiles, keep)
}

// pamSavedModules returns the modules of the saved state, if all its files exist.
func (s *System) pamSavedModules() ([]string, bool) {
	var mods []string
	for _, t := range pamauth.Types() {
		b, err := s.fs.read("/", pamSaved+"/"+t)
		if err != nil {
			return nil, false
		}
		mods = append(mods, pamauth.SavedModules(b)...)
	}
	return mods, true
}

// writePam writes the seen list, the common-* files and the saved state.
func (s *System) writePam(profiles map[string]pamauth.Profile, sorted, enabled []string) error {
	if err := s.fs.mkdirAll("/", pamSaved, 0o755); err != nil {
		return err
	}
	if err := s.fs.write("/", pamSaved+"/seen", pamauth.Seen(sorted), 0o644, false); err != nil {
		return err
	}
	for _, t := range pamauth.Types() {
		tmpl, err := s.fs.read("/", pamTemplate+"/common-"+t)
		if err != nil {
			return fmt.Errorf("template of common-%s: %w", t, err)
		}
		conf, ok := pamauth.Config(tmpl, t, profiles, enabled)
		if !ok {
			return fmt.Errorf("%s/common-%s lacks pam-auth-update's markers", pamTemplate, t)
		}
		if err := s.fs.write("/", "/etc/pam.d/common-"+t, conf, 0o644, false); err != nil {
			return err
		}
		if err := s.fs.write("/", pamSaved+"/"+t, pamauth.Saved(t, profiles, enabled), 0o644, false); err != nil {
			return err
		}
	}
	return nil
}

const ucfDir = "/var/lib/ucf"

// runUcf is ucf [--purge] [--debconf-ok] [--three-way] NEW DEST: a destination that does
// not exist gets the new file; ucf records its md5 in its hashfile and keeps a copy in its
// cache. An existing destination is left alone (as an unmodified conffile of a first
// installation would be replaced by the same content).
func runUcf(c *cmdCtx) int {
	o := parseOpts(c.args, "", "state-dir", "src-dir")
	s := c.sys()
	if o.has("purge") {
		if len(o.args) == 1 {
			s.ucfHash(o.args[0], "")
		}
		return 0
	}
	if len(o.args) != 2 {
		return c.fail("wrong number of arguments")
	}
	src, dst := o.args[0], o.args[1]
	body, err := s.fs.read(c.dir, src)
	if err != nil {
		return c.fail("%s: %s", src, errorText(err))
	}
	if !s.fs.exists("/", dst) {
		_, n, _ := s.fs.stat(c.dir, src, true)
		if err := s.fs.write("/", dst, body, n.Mode, false); err != nil {
			return c.fail("%s: %s", dst, errorText(err))
		}
	}
	sum := md5.Sum(body)
	s.ucfHash(dst, hex.EncodeToString(sum[:]))
	s.fs.mkdirAll("/", ucfDir+"/cache", 0o755)
	s.fs.write("/", ucfDir+"/cache/"+strings.ReplaceAll(dst, "/", ":"), body, 0o644, false)
	return 0
}

// ucfHash sets (or, with an empty sum, removes) the hashfile line of dest.
func (s *System) ucfHash(dest, sum string) {
	b, _ := s.fs.read("/", ucfDir+"/hashfile")
	var out []string
	for _, l := range lines(b) {
		if f := strings.Fields(l); len(f) == 2 && f[1] == dest {
			continue
		}
		out = append(out, l)
	}
	if sum != "" {
		out = append(out, sum+"  "+dest)
	}
	s.fs.mkdirAll("/", ucfDir, 0o755)
	s.fs.write("/", ucfDir+"/hashfile", []byte(joinLines(out)), 0o644, false)
}

func joinLines(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	return strings.Join(ls, "\n") + "\n"
}

// runUcfr is ucfr [--purge] PACKAGE FILE: the registry of which package owns a file.
func runUcfr(c *cmdCtx) int {
	o := parseOpts(c.args, "", "state-dir")
	if len(o.args) != 2 {
		return c.fail("wrong number of arguments")
	}
	s := c.sys()
	b, _ := s.fs.read("/", ucfDir+"/registry")
	var out []string
	for _, l := range lines(b) {
		if f := strings.Fields(l); len(f) == 2 && f[1] == o.args[1] {
			continue
		}
		out = append(out, l)
	}
	if !o.has("purge") {
		out = append(out, o.args[0]+" \t "+o.args[1])
	}
	s.fs.mkdirAll("/", ucfDir, 0o755)
	s.fs.write("/", ucfDir+"/registry", []byte(joinLines(out)), 0o644, false)
	return 0
}

// runPgUpdatedicts is postgresql-common's pg_updatedicts for images without dictionaries:
// the cache directory is made and stale dictionary links removed; converting installed
// myspell/hunspell dictionaries (iconv) is not reproduced and is reported.
func runPgUpdatedicts(c *cmdCtx) int {
	s := c.sys()
	const cache = "/var/cache/postgresql/dicts"
	if err := s.fs.mkdirAll("/", cache, 0o755); err != nil {
		return c.fail("%s", errorText(err))
	}
	for _, d := range []string{"/usr/share/hunspell", "/usr/share/myspell/dicts"} {
		for _, f := range s.glob(d + "/*.aff") {
			if _, n, err := s.fs.stat("/", f, false); err == nil && n.Kind == KindFile {
				s.unknown(c.run.pkg.Name, c.run.script, "pg_updatedicts (dictionary "+f+")")
			}
		}
	}
	for _, f := range s.glob(cache + "/*") {
		s.fs.remove("/", f)
	}
	versions, _ := s.fs.list("/", "/usr/share/postgresql")
	for _, v := range versions {
		for _, f := range append(s.glob("/usr/share/postgresql/"+v+"/tsearch_data/*.affix"), s.glob("/usr/share/postgresql/"+v+"/tsearch_data/*.dict")...) {
			if _, n, err := s.fs.stat("/", f, false); err == nil && n.Kind == KindSymlink {
				s.fs.remove("/", f)
			}
		}
	}
	return 0
}

// runPgConftool is pg_conftool FILE show [-bs] KEY: the value of an uncommented "key =
// value" line (exit 1 when there is none).
func runPgConftool(c *cmdCtx) int {
	var ops []string
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			ops = append(ops, a)
		}
	}
	if len(ops) != 3 || ops[1] != "show" || !strings.HasPrefix(ops[0], "/") {
		c.sys().unknown(c.run.pkg.Name, c.run.script, "pg_conftool "+strings.Join(c.args, " "))
		return 1
	}
	b, err := c.fs().read("/", ops[0])
	if err != nil {
		return c.fail("%s", errorText(err))
	}
	for _, l := range lines(b) {
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(k) == ops[2] {
			v, _, _ = strings.Cut(v, "#")
			fmt.Fprintln(c.stdout, strings.Trim(strings.TrimSpace(v), "'"))
			return 0
		}
	}
	return 1
}

// runUpdateLocale is update-locale [--no-checks] [--reset] [--locale-file FILE]
// [VAR[=VALUE]]...; variables are written in name order.
func runUpdateLocale(c *cmdCtx) int {
	o := parseOpts(c.args, "", "locale-file")
	file, ok := o.get("locale-file")
	if !ok {
		file = "/etc/default/locale"
	}
	s := c.sys()
	vars := map[string]string{}
	content := "#  File generated by update-locale\n"
	mode := int64(0o644)
	if b, err := s.fs.read("/", file); err == nil {
		content, vars = commentLocaleVars(string(b), o.has("reset"))
		_, n, _ := s.fs.stat("/", file, true)
		mode = n.Mode
	}
	for _, a := range o.args {
		if k, v, ok := strings.Cut(a, "="); ok {
			vars[k] = v
		} else {
			delete(vars, a)
		}
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		content = setLocaleVar(content, k, vars[k])
	}
	if err := s.fs.write("/", file, []byte(content), mode, false); err != nil {
		return c.fail("%s", errorText(err))
	}
	return 0
}

// commentLocaleVars comments out the variable lines of an existing locale file and returns
// their values (none with reset).
func commentLocaleVars(content string, reset bool) (string, map[string]string) {
	vars := map[string]string{}
	ls := strings.SplitAfter(content, "\n")
	for i, l := range ls {
		t := strings.TrimLeft(l, " \t")
		if k, v, ok := strings.Cut(strings.TrimSuffix(t, "\n"), "="); ok && isWord(k) {
			if !reset && t == l {
				vars[k] = v
			}
			ls[i] = "#" + l
		}
	}
	content = strings.Join(ls, "")
	if !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	return content, vars
}

// setLocaleVar uncomments the first "#KEY=" line with the new value, or appends one.
func setLocaleVar(content, key, value string) string {
	ls := strings.SplitAfter(content, "\n")
	for i, l := range ls {
		t := strings.TrimLeft(strings.TrimPrefix(l, "#"), " \t")
		if strings.HasPrefix(l, "#") && strings.HasPrefix(t, key+"=") {
			ls[i] = key + "=" + value + "\n"
			return strings.Join(ls, "")
		}
	}
	return content + key + "=" + value + "\n"
}

func isWord(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// runRunParts is run-parts [--test|--list] DIR, and running the executables of DIR in
// order (each a command of the table or a shell script).
func runRunParts(c *cmdCtx) int {
	o := parseOpts(c.args, "a", "arg", "umask")
	if len(o.args) != 1 {
		return c.fail("wrong number of arguments")
	}
	for _, f := range c.sys().executables(c.abs(o.args[0])) {
		if o.has("test", "list") {
			fmt.Fprintln(c.stdout, f)
			continue
		}
		sub := *c
		sub.name, sub.args = path.Base(f), nil
		if code := c.sys().dispatch(&sub, f); code != 0 {
			return code
		}
	}
	return 0
}

// runDpkgRealpath is dpkg-realpath [--root DIR] PATH: the canonical path in the image.
func runDpkgRealpath(c *cmdCtx) int {
	args := c.args
	for len(args) > 1 && (args[0] == "--root" || args[0] == "--instdir") {
		args = args[2:]
	}
	if len(args) != 1 {
		return c.fail("need one pathname")
	}
	p, ok := c.canonical(args[0], true)
	if !ok {
		return c.fail("%s: No such file or directory", args[0])
	}
	fmt.Fprintln(c.stdout, p)
	return 0
}
