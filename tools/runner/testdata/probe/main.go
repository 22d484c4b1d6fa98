// Command probe is the program the runner tests run inside their images: a static binary (no
// shell, no libc in the test images) whose subcommands each report one fact about its world.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe exit|signal|sleep|ls|pids|remount|id|env|stat|cat|write|net|listen ARGS")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "probe %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func run(verb string, args []string) error {
	switch verb {
	case "exit": // exit N: print a few lines, then exit with N
		return exit(args[0])
	case "signal": // the probe kills itself with SIGTERM
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(time.Minute)
	case "sleep": // sleep SECONDS
		d, err := time.ParseDuration(args[0] + "s")
		if err != nil {
			return err
		}
		time.Sleep(d)
	case "ls": // ls DIR: the names in DIR, sorted, on one line
		return ls(args[0])
	case "pids": // the processes /proc lists, and the probe's own pid
		return pids()
	case "remount": // remount PATH: try to make the mount at PATH read-write
		if err := syscall.Mount("", args[0], "", syscall.MS_REMOUNT|syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("remount %s read-write: %w", args[0], err)
		}
		fmt.Println("remounted read-write")
	case "id": // uid, gid, groups, working directory, host name
		return id()
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	case "stat": // stat PATH...: "PATH TYPE MODE UID GID", or "PATH missing"
		for _, p := range args {
			fmt.Println(stat(p))
		}
	case "cat":
		b, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		os.Stdout.Write(b)
	case "write": // write PATH: append a line to PATH
		return write(args[0])
	case "net": // net ADDR: the interfaces, then a TCP connection attempt to ADDR
		return netProbe(args[0])
	case "listen": // a TCP listener on 127.0.0.1 and one round trip through it
		return listen()
	default:
		return fmt.Errorf("unknown verb %q", verb)
	}
	return nil
}

// exit prints a few lines, then exits with status arg; it returns only if
// arg is not a number.
func exit(arg string) error {
	n, err := strconv.Atoi(arg)
	if err != nil {
		return err
	}
	for i := 1; i <= 30; i++ {
		fmt.Printf("line %d\n", i)
	}
	fmt.Printf("exiting with %d\n", n)
	os.Exit(n)
	return nil
}

func ls(dir string) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	fmt.Println(strings.Join(names, " "))
	return nil
}

func pids() error {
	es, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	var pids []string
	for _, e := range es {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, e.Name())
		}
	}
	fmt.Printf("pids=%v self=%d\n", pids, os.Getpid())
	return nil
}

func write(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("written by probe\n")
	return err
}

func id() error {
	groups, err := os.Getgroups()
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	fmt.Printf("uid=%d gid=%d groups=%v cwd=%s hostname=%s\n", os.Getuid(), os.Getgid(), groups, wd, host)
	return nil
}

func stat(p string) string {
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return p + " missing"
	}
	if err != nil {
		return fmt.Sprintf("%s error %v", p, err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	kind := "file"
	switch {
	case fi.IsDir():
		kind = "dir"
	case fi.Mode()&os.ModeSymlink != 0:
		kind = "symlink"
	case fi.Mode()&os.ModeCharDevice != 0:
		kind = "chardev"
	}
	return fmt.Sprintf("%s %s %04o %d %d", p, kind, st.Mode&0o7777, st.Uid, st.Gid)
}

// netProbe prints the network interfaces; only if lo is the only one does it try to connect to
// addr, so that a broken namespace never sends a packet anywhere.
func netProbe(addr string) error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	var names []string
	for _, i := range ifs {
		names = append(names, fmt.Sprintf("%s(up=%t)", i.Name, i.Flags&net.FlagUp != 0))
	}
	fmt.Println("interfaces:", strings.Join(names, " "))
	if len(ifs) != 1 || ifs[0].Name != "lo" {
		return errors.New("an interface besides lo: not connecting")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Println("dial:", err)
		return nil
	}
	c.Close()
	fmt.Println("dial: connected")
	return nil
}

func listen() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	fmt.Printf("echo through %s: %s\n", l.Addr(), buf)
	return nil
}
