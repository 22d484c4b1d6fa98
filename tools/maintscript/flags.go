package maintscript

import "strings"

// opts are the parsed options of a command line, GNU style: "-abc" (short options combined),
// "-m MODE" or "-mMODE", "--long", "--long=VALUE" or "--long VALUE", "--" ending the options.
// Options may come after operands, as GNU tools allow.
type opts struct {
	set  map[string]string // option (without dashes) -> value ("" for a flag)
	args []string          // operands
}

// parseOpts parses args; short lists the short options that take a value, long the long
// options that do.
func parseOpts(args []string, short string, long ...string) opts {
	o := opts{set: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			o.args = append(o.args, args[i+1:]...)
			return o
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			if !hasVal && contains(long, name) && i+1 < len(args) {
				i++
				val = args[i]
			}
			o.set[name] = val
		case strings.HasPrefix(a, "-") && len(a) > 1:
			i = o.short(args, i, short)
		default:
			o.args = append(o.args, a)
		}
	}
	return o
}

// short parses the combined short options of args[i] and returns the index of the last
// argument used.
func (o *opts) short(args []string, i int, short string) int {
	a := args[i]
	for k := 1; k < len(a); k++ {
		f := a[k : k+1]
		if !strings.Contains(short, f) {
			o.set[f] = ""
			continue
		}
		if k+1 < len(a) {
			o.set[f] = a[k+1:]
		} else if i+1 < len(args) {
			i++
			o.set[f] = args[i]
		}
		return i
	}
	return i
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// has reports whether any of the names was given.
func (o opts) has(names ...string) bool {
	for _, n := range names {
		if _, ok := o.set[n]; ok {
			return true
		}
	}
	return false
}

// get returns the value of the first of the names that was given.
func (o opts) get(names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := o.set[n]; ok {
			return v, true
		}
	}
	return "", false
}
