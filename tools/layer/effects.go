package layer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ci-images/ci-images/tools/maintscript"
	"github.com/ci-images/ci-images/tools/passwd"
)

// Effects are what the layer adds to the packages' files besides the dpkg database: the
// maintainer scripts' results, and the image's own accounts and directories. The JSON names
// are those of the deb_layer configuration.
//
// The maintainer scripts run in tools/maintscript (a shell interpreter whose commands are
// emulated in Go; no program of the image runs) as apt-get would run them: first the
// installed packages' (Options.Installed, the layers below; their results are written again
// into this layer, so that it is complete on its own), then the new packages', each group as
// one installation (preinst, config and postinst in dependency order, then triggers). What
// the scripts do that the emulation does not know is reported in Summary.Scripts.
//
// Locales are not compiled (that is localedef, which locale-gen runs): C.UTF-8 is built into
// bookworm's libc-bin, and the declarative way to other locales is the locales-all package.
type Effects struct {
	// Users and Groups are created, as `groupadd -r -g GID` and `useradd [-r] -u UID` would,
	// once the account tools are installed (after the passwd package is configured, or before
	// the new packages' postinst scripts run), so that the scripts find them with the image's
	// fixed ids.
	Users  []User  `json:"users"`
	Groups []Group `json:"groups"`
	// Dirs are directories created (or whose mode and owner are set) after the scripts ran,
	// e.g. var/run/postgresql 2777 postgres. The path is resolved through symlinks (var/run is
	// one to /run).
	Dirs []Dir `json:"dirs"`
	// Alternatives and CACertificates let update-alternatives and update-ca-certificates
	// take effect; when unset, their calls are reported as not reproduced.
	Alternatives   bool `json:"alternatives"`
	CACertificates bool `json:"ca_certificates"`
	// Diversions are dpkg-divert diversions to apply besides those the scripts make (the
	// scripts' are found by running them before the packages are unpacked, see
	// diversions.go).
	Diversions []maintscript.Diversion `json:"diversions"`
}

// User is a user to add. Home and Shell default to /nonexistent and /usr/sbin/nologin. GID
// defaults to the group named Group, or to a group with the user's name created with GID =
// UID when Group is empty.
type User struct {
	Name       string   `json:"name"`
	UID        int      `json:"uid"`
	GID        int      `json:"gid"`
	Group      string   `json:"group"`  // primary group name (created if missing)
	Groups     []string `json:"groups"` // supplementary groups (must exist)
	Gecos      string   `json:"gecos"`
	Home       string   `json:"home"`
	Shell      string   `json:"shell"`
	CreateHome bool     `json:"create_home"` // create Home owned by the user, mode 0755
}

// Group is a group to add.
type Group struct {
	Name    string   `json:"name"`
	GID     int      `json:"gid"`
	Members []string `json:"members"`
}

// Dir is a directory with an explicit mode and owner. Owner and Group are names resolved
// against the generated passwd/group ("" for root).
type Dir struct {
	Path  string `json:"path"`
	Mode  int64  `json:"mode"`
	Owner string `json:"owner"`
	Group string `json:"group"`
}

// effectInput reports whether the effects may read the body of the file at output path p;
// bodies of files that are not written into the layer (Options.Installed) are otherwise not
// kept. None is needed in advance: the scripts' reads of such files read the package again
// (scriptFS.lowerBody).
func effectInput(string) bool { return false }

// scriptResult is what the scripts left for the dpkg database and the summary.
type scriptResult struct {
	diversions []maintscript.Diversion
	overrides  []maintscript.StatOverride
	interests  []maintscript.Interest
	report     maintscript.Report
	warnings   []string
}

// applyEffects runs the maintainer scripts (installed packages, then new ones, the
// accounts created in between) and makes the directories.
func applyEffects(t *tree, fx Effects, discovered []maintscript.Diversion) (scriptResult, error) {
	var res scriptResult
	installed, fresh, all := scriptPackages(t)
	f := newScriptFS(t)
	sys := maintscript.NewSystem(f, all, maintscript.Options{Epoch: t.epoch, Alternatives: fx.Alternatives, CACertificates: fx.CACertificates})
	sys.AddDiversions(fx.Diversions)
	if len(installed) > 0 {
		sys.Install(installed, nil)
	}
	f.upper = true
	var accountsErr error
	sys.Install(fresh, func() { accountsErr = createAccounts(sys, fx) })
	if accountsErr != nil {
		return res, fmt.Errorf("accounts: %w", accountsErr)
	}
	for _, d := range fx.Dirs {
		if err := applyDir(sys, d); err != nil {
			return res, err
		}
	}
	passwdB, _ := sys.ReadFile("/etc/passwd")
	groupB, _ := sys.ReadFile("/etc/group")
	f.nameIDs(idNames(passwdB), idNames(groupB))
	res.diversions, res.overrides, res.interests = sys.Diversions(), sys.StatOverrides(), sys.Interests()
	res.warnings = append(res.warnings, lateDiversions(t, discovered, res.diversions)...)
	res.report = sys.Report()
	res.warnings = append(append(append(res.warnings, res.report.Warnings...), res.report.Failures...), f.warnings...)
	for _, line := range res.report.Summary() {
		res.warnings = append(res.warnings, "maintainer-script commands not reproduced: "+line)
	}
	return res, nil
}

// lateDiversions warns about the diversions the scripts made that were not applied when the
// packages were read (they depend on the file system) and that would have moved a file.
func lateDiversions(t *tree, applied, made []maintscript.Diversion) []string {
	known := map[maintscript.Diversion]bool{}
	for _, d := range applied {
		known[d] = true
	}
	var w []string
	for _, d := range made {
		if known[d] {
			continue
		}
		for _, p := range t.pkgs {
			if p.deb.Package != d.Package && slices.Contains(p.dpkgList(), d.Path) {
				w = append(w, fmt.Sprintf("%s was made by a script but not found before unpacking; /%s of %s was not moved", d, strings.TrimPrefix(d.Path, "/"), p.deb.Package))
			}
		}
	}
	return w
}

// scriptPackages returns the installed and the new packages as the scripts see them, and
// all of them.
func scriptPackages(t *tree) (installed, fresh, all []*maintscript.Package) {
	for _, p := range t.pkgs {
		mp := &maintscript.Package{Name: p.deb.Package, Version: p.deb.Version, Architecture: p.deb.Architecture,
			MultiArch: p.deb.MultiArch, Paragraph: p.deb.Paragraph, Members: p.deb.Members, Files: p.dpkgList()}
		all = append(all, mp)
		if p.installed {
			installed = append(installed, mp)
		} else {
			fresh = append(fresh, mp)
		}
	}
	return installed, fresh, all
}

// createAccounts adds Effects.Groups and Effects.Users; the account files start from a
// root-only database when no package made them.
func createAccounts(sys *maintscript.System, fx Effects) error {
	if len(fx.Users)+len(fx.Groups) == 0 {
		return nil
	}
	if _, err := sys.ReadFile("/etc/passwd"); err != nil {
		if err := sys.MakeDir("/etc", 0o755, 0, 0); err != nil {
			return err
		}
		if err := sys.WriteFile("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644); err != nil {
			return err
		}
		if err := sys.WriteFile("/etc/group", []byte("root:x:0:\n"), 0o644); err != nil {
			return err
		}
	}
	for _, g := range fx.Groups {
		if err := sys.CreateGroup(g.Name, g.GID, g.Members); err != nil {
			return err
		}
	}
	for _, u := range fx.Users {
		group := or(u.Group, u.Name)
		pu := passwd.User{Name: u.Name, UID: u.UID, GID: u.GID, Gecos: u.Gecos, Home: or(u.Home, "/nonexistent"), Shell: or(u.Shell, "/usr/sbin/nologin")}
		if err := sys.CreateUser(pu, group, u.Groups); err != nil {
			return err
		}
		if u.CreateHome && u.Home != "" {
			if err := sys.MakeHome(u.Home, u.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// applyDir creates directory d (or sets its mode and owner).
func applyDir(sys *maintscript.System, d Dir) error {
	uid, gid := 0, 0
	if d.Owner != "" {
		u, g, ok := sys.UserIDs(d.Owner)
		if !ok {
			return fmt.Errorf("dir %s: unknown user %q", d.Path, d.Owner)
		}
		uid, gid = u, g
	}
	if d.Group != "" {
		g, ok := sys.GroupID(d.Group)
		if !ok {
			return fmt.Errorf("dir %s: unknown group %q", d.Path, d.Group)
		}
		gid = g
	}
	p := d.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return sys.MakeDir(p, d.Mode, uid, gid)
}
