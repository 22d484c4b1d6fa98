package maintscript

import (
	"fmt"
	"strings"

	"github.com/ci-images/ci-images/tools/deb822"
)

// Debconf is emulated as its noninteractive frontend: /usr/share/debconf/confmodule, when a
// script sources it, defines the db_* functions on top of the debconf-emulation command,
// which answers from the packages' templates (the defaults, since no question is shown and
// nothing is preseeded) and from what the scripts set. When a postinst sources it, the
// package's config script runs first, as debconf's frontend does.

// confmodule replaces /usr/share/debconf/confmodule.
const confmodule = `# debconf confmodule (ci-images emulation: noninteractive, answers from the templates)
debconf-emulation CONFIG "$@"
_db_cmd () {
	_db_internal_line="$(debconf-emulation "$@")"
	RET="${_db_internal_line#* }"
	if [ "$RET" = "$_db_internal_line" ]; then RET=""; fi
	return "${_db_internal_line%% *}"
}
db_capb () { _db_cmd CAPB "$@"; }
db_version () { _db_cmd VERSION "$@"; }
db_get () { _db_cmd GET "$@"; }
db_set () { _db_cmd SET "$@"; }
db_reset () { _db_cmd RESET "$@"; }
db_subst () { _db_cmd SUBST "$@"; }
db_fget () { _db_cmd FGET "$@"; }
db_fset () { _db_cmd FSET "$@"; }
db_metaget () { _db_cmd METAGET "$@"; }
db_register () { _db_cmd REGISTER "$@"; }
db_unregister () { _db_cmd UNREGISTER "$@"; }
db_purge () { _db_cmd PURGE "$@"; }
db_input () { _db_cmd INPUT "$@"; }
db_go () { _db_cmd GO "$@"; }
db_clear () { _db_cmd CLEAR "$@"; }
db_title () { _db_cmd TITLE "$@"; }
db_settitle () { _db_cmd SETTITLE "$@"; }
db_beginblock () { _db_cmd BEGINBLOCK "$@"; }
db_endblock () { _db_cmd ENDBLOCK "$@"; }
db_info () { _db_cmd INFO "$@"; }
db_progress () { _db_cmd PROGRESS "$@"; }
db_data () { _db_cmd DATA "$@"; }
db_x_loadtemplatefile () { _db_cmd X_LOADTEMPLATEFILE "$@"; }
db_stop () { _db_cmd STOP "$@"; }
`

// question is one debconf question.
type question struct {
	template deb822.Paragraph
	value    string
	set      bool
	flags    map[string]string
	vars     map[string]string
}

// debconf is the database: questions by name.
type debconf struct {
	questions map[string]*question
	ranConfig map[string]bool // packages whose config script ran
}

func newDebconf(pkgs []*Package) *debconf {
	d := &debconf{questions: map[string]*question{}, ranConfig: map[string]bool{}}
	for _, p := range pkgs {
		d.loadTemplates(p.Members["templates"])
	}
	return d
}

func (d *debconf) loadTemplates(b []byte) {
	paras, err := deb822.ParseAll(b)
	if err != nil {
		return
	}
	for _, t := range paras {
		if name := t.Get("Template"); name != "" {
			d.questions[name] = &question{template: t, flags: map[string]string{}, vars: map[string]string{}}
		}
	}
}

// value is what GET returns: the value set, else the template's default.
func (q *question) get() string {
	if q.set {
		return q.value
	}
	return q.template.Get("Default")
}

// expand replaces the ${var} substitutions in a template field.
func (q *question) expand(s string) string {
	for k, v := range q.vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

// command answers one protocol command: "CODE VALUE".
func (d *debconf) command(verb string, args []string) string {
	switch verb {
	case "CAPB":
		return "0 multiselect escape"
	case "VERSION":
		return "0 2.0"
	case "INPUT":
		return "30 question skipped"
	case "GO", "CLEAR", "TITLE", "SETTITLE", "BEGINBLOCK", "ENDBLOCK", "INFO", "PROGRESS", "DATA", "STOP", "X_LOADTEMPLATEFILE":
		return "0 ok"
	case "REGISTER":
		if len(args) == 2 {
			if t, ok := d.questions[args[0]]; ok {
				d.questions[args[1]] = &question{template: t.template, flags: map[string]string{}, vars: map[string]string{}}
			}
		}
		return "0 ok"
	case "UNREGISTER", "PURGE":
		return "0 ok"
	}
	if len(args) == 0 {
		return "20 missing question"
	}
	q, ok := d.questions[args[0]]
	if !ok {
		return "10 " + args[0] + " doesn't exist"
	}
	return d.questionCommand(q, verb, args[1:])
}

func (d *debconf) questionCommand(q *question, verb string, args []string) string {
	rest := strings.Join(args, " ")
	switch verb {
	case "GET":
		return "0 " + q.get()
	case "SET":
		q.value, q.set = rest, true
		return "0 value set"
	case "RESET":
		q.set, q.flags["seen"] = false, "false"
		return "0 ok"
	case "SUBST":
		if len(args) >= 1 {
			q.vars[args[0]] = strings.Join(args[1:], " ")
		}
		return "0 ok"
	case "FGET":
		if v, ok := q.flags[rest]; ok {
			return "0 " + v
		}
		return "0 false"
	case "FSET":
		if len(args) == 2 {
			q.flags[args[0]] = args[1]
		}
		return "0 true"
	case "METAGET":
		field := q.template.Get(rest)
		if field == "" {
			return "20 " + rest + " does not exist"
		}
		return "0 " + q.expand(field)
	}
	return "20 unsupported command " + verb
}

// runDebconf is the debconf-emulation command behind the confmodule.
func runDebconf(c *cmdCtx) int {
	if len(c.args) == 0 {
		return c.fail("missing command")
	}
	s := c.sys()
	verb := strings.ToUpper(c.args[0])
	if verb == "CONFIG" {
		s.runConfigFirst(c.run, c.args[1:])
		return 0
	}
	s.mu.Lock()
	out := s.debconf.command(verb, c.args[1:])
	s.mu.Unlock()
	fmt.Fprintln(c.stdout, out)
	return 0
}

// runConfigFirst runs the package's config script before its postinst uses debconf, once.
func (s *System) runConfigFirst(run *scriptRun, args []string) {
	p := run.pkg
	if run.script != "postinst" || s.debconf.ranConfig[p.Name] {
		return
	}
	s.debconf.ranConfig[p.Name] = true
	if _, ok := p.Members["config"]; ok {
		s.runScript(p, "config", args...)
	}
}
