package tags

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Keys of Bazel's workspace status that tags are computed from. BUILD_TIMESTAMP is Bazel's own
// (volatile-status.txt, seconds since the epoch); CommitKey is written by the repository's
// --workspace_status_command script (stable-status.txt).
const (
	TimestampKey = "BUILD_TIMESTAMP"
	CommitKey    = "STABLE_GIT_COMMIT"
)

// ParseStatus reads a Bazel workspace status file: one "KEY value" per line, the value being
// everything after the first space (possibly empty). Blank lines are skipped.
func ParseStatus(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		if key == "" {
			return nil, fmt.Errorf("line %d: %q has no key", n, line)
		}
		out[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadStatusFiles reads workspace status files (stable-status.txt, volatile-status.txt) into one
// map; a key in a later file wins.
func ReadStatusFiles(paths ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("workspace status: %w", err)
		}
		m, err := ParseStatus(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("workspace status %s: %w", p, err)
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, nil
}

// StampFromStatus builds the Stamp from a workspace status map. BUILD_TIMESTAMP (a positive
// number of seconds) is required for dev tags and the commit for release tags; a missing one is
// reported by Stamp.Tags, which asks for --stamp.
func StampFromStatus(status map[string]string, release bool) (Stamp, error) {
	s := Stamp{Release: release, Commit: strings.TrimSpace(status[CommitKey])}
	if ts := strings.TrimSpace(status[TimestampKey]); ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return Stamp{}, fmt.Errorf("workspace status: %s %q: want seconds since the epoch", TimestampKey, ts)
		}
		if sec > 0 { // an unstamped build may say 0
			s.Time = time.Unix(sec, 0).UTC()
		}
	}
	return s, nil
}
