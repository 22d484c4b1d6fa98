package maintscript

import (
	"fmt"
	"strconv"
	"strings"
)

// Install is one `update-alternatives --install LINK NAME PATH PRIORITY` with the
// `--slave LINK NAME PATH` options that follow it in the same call.
type Install struct {
	Link, Name, Path string
	Priority         int
	Slaves           []Slave
}

// Slave is one --slave link of an Install.
type Slave struct{ Link, Name, Path string }

// Alternatives returns the update-alternatives --install calls of the postinst script of
// package pkg, in script order. Commented-out options are ignored; an incomplete call or one
// whose arguments hold a shell expansion is a warning.
func Alternatives(script, pkg string) (installs []Install, warnings []string) {
	for _, line := range logicalLines(script) {
		for _, c := range commandCalls(line, "update-alternatives") {
			in, w := installs1(c.args, pkg, line)
			installs, warnings = append(installs, in...), append(warnings, w...)
		}
	}
	return installs, warnings
}

// installs1 reads the --install and --slave options of one call; line is the logical line,
// for messages.
func installs1(args []string, pkg, line string) (out []Install, warnings []string) {
	cur := -1 // the Install that --slave options belong to
	for k := 0; k < len(args); k++ {
		switch args[k] {
		case "--install":
			if k+4 >= len(args) {
				return out, append(warnings, fmt.Sprintf("%s: postinst: incomplete update-alternatives --install: %q", pkg, strings.TrimSpace(line)))
			}
			link, name, p, prio := args[k+1], args[k+2], args[k+3], args[k+4]
			k += 4
			pr, err := strconv.Atoi(prio)
			if strings.ContainsAny(link+name+p+prio, "$`") || err != nil {
				warnings = append(warnings, fmt.Sprintf("%s: postinst: cannot interpret update-alternatives --install %s %s %s %s statically; skipped", pkg, link, name, p, prio))
				cur = -1
				continue
			}
			out = append(out, Install{Link: link, Name: name, Path: p, Priority: pr})
			cur = len(out) - 1
		case "--slave":
			if k+3 >= len(args) || cur < 0 {
				return out, warnings
			}
			link, name, p := args[k+1], args[k+2], args[k+3]
			k += 3
			if strings.ContainsAny(link+name+p, "$`") {
				warnings = append(warnings, fmt.Sprintf("%s: postinst: cannot interpret update-alternatives --slave %s %s %s statically; skipped", pkg, link, name, p))
				continue
			}
			out[cur].Slaves = append(out[cur].Slaves, Slave{Link: link, Name: name, Path: p})
		case "--altdir", "--admindir", "--log":
			k++
		}
	}
	return out, warnings
}
