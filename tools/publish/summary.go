package publish

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteSummary writes the results as a table (image, digest, tags, bytes sent, status) and a
// closing line with the counts per status and the total bytes sent.
func WriteSummary(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tDIGEST\tTAGS\tSENT\tSTATUS")
	counts := map[Status]int{}
	var total int64
	for _, r := range rs {
		tags := make([]string, len(r.Tags))
		for i, t := range r.Tags {
			tags[i] = t.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, shortDigest(r.Digest.String()), strings.Join(tags, ", "), FormatBytes(r.BytesSent), r.Status)
		counts[r.Status]++
		total += r.BytesSent
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	var parts []string
	for _, s := range []Status{Pushed, Unchanged, WouldPush, Failed} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	_, err := fmt.Fprintf(w, "%d image(s): %s; %s sent\n", len(rs), strings.Join(parts, ", "), FormatBytes(total))
	return err
}

// shortDigest is "sha256:" and the first 12 hex digits.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
