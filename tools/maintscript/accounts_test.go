package maintscript

import (
	"strings"
	"testing"
	"time"

	"github.com/ci-images/ci-images/tools/passwd"
)

// basePasswd is base-passwd's preinst in short, and passwd's postinst (shadowconfig on:
// pwconv, grpconv, then the modes).
func basePasswd() []*Package {
	bp := pkg("base-passwd", "", "preinst", `set -e
if [ ! -e /etc/passwd ]; then cat > /etc/passwd <<'EOF'
root:*:0:0:root:/root:/bin/bash
nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
fi
if [ ! -e /etc/group ]; then printf 'root:*:0:\nshadow:*:42:\nsudo:*:27:\nnogroup:*:65534:\n' > /etc/group; fi
`)
	pw := pkg("passwd", `set -e
getent group shadow | grep -q '^shadow:[^:]*:42' || groupadd -g 42 shadow
pwconv
grpconv
chown root:shadow /etc/shadow /etc/gshadow
chmod 640 /etc/shadow /etc/gshadow
`)
	pw.Files = []string{"/usr/sbin/useradd"}
	pw.Paragraph.Set("Depends", "base-passwd")
	return []*Package{bp, pw}
}

// TestAccounts: the shadow files as pwconv and grpconv make them, the accounts of
// CreateGroup and CreateUser (made once useradd works), and adduser in a postinst.
func TestAccounts(t *testing.T) {
	for _, tc := range []struct {
		epoch time.Time
		day   string
	}{{testEpoch, "19509"}, {time.Unix(0, 0), ""}} {
		f := memFS("etc/")
		ps := append(basePasswd(), pkg("pg", `set -e
getent passwd postgres >/dev/null || adduser --system --home /var/lib/postgresql postgres
if ! id -Gn postgres | grep -qw ssl-cert; then adduser postgres ssl-cert; fi
adduser --system --group --no-create-home svc
echo "uid=$(id -u svc) gid=$(id -g svc)"
`))
		ps[2].Paragraph.Set("Depends", "passwd")
		s := NewSystem(f, ps, Options{Epoch: tc.epoch})
		s.Install(ps, func() {
			if err := s.CreateGroup("ssl-cert", 998, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateUser(passwd.User{Name: "postgres", UID: 999, Gecos: "PostgreSQL", Home: "/var/lib/postgresql", Shell: "/bin/bash"}, "postgres", nil); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateUser(passwd.User{Name: "ci", UID: 1000, Home: "/home/ci", Shell: "/bin/bash"}, "ci", []string{"sudo"}); err != nil {
				t.Fatal(err)
			}
		})
		if r := s.Report(); len(r.Failures)+len(r.Unknown) > 0 {
			t.Fatalf("%+v", r)
		}
		want := map[string]string{
			"/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
				"postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/bash\nci:x:1000:1000::/home/ci:/bin/bash\nsvc:x:100:100::/nonexistent:/usr/sbin/nologin\n",
			"/etc/group":   "root:x:0:\nshadow:x:42:\nsudo:x:27:ci\nnogroup:x:65534:\nssl-cert:x:998:postgres\npostgres:x:999:\nci:x:1000:\nsvc:x:100:\n",
			"/etc/shadow":  "root:*:D:0:99999:7:::\nnobody:*:D:0:99999:7:::\npostgres:!:D::::::\nci:!:D:0:99999:7:::\nsvc:!:D::::::\n",
			"/etc/gshadow": "root:*::\nshadow:*::\nsudo:*::ci\nnogroup:*::\nssl-cert:!::postgres\npostgres:!::\nci:!::\nsvc:!::\n",
		}
		for p, w := range want {
			if got := file(t, f, p); got != strings.ReplaceAll(w, ":D:", ":"+tc.day+":") {
				t.Errorf("%s (epoch %v):\n%s\nwant\n%s", p, tc.epoch, got, w)
			}
		}
		if n, _ := f.Get("etc/shadow"); n.Mode != 0o640 || n.GID != 42 {
			t.Errorf("shadow %+v", n)
		}
	}
}
