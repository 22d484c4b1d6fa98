package publish

import (
	"context"
	"fmt"
	"io"
)

// DryRun prints every tag it would write and sends nothing: it makes no network request.
type DryRun struct{ w io.Writer }

// NewDryRun returns a dry-run publisher printing to w.
func NewDryRun(w io.Writer) *DryRun { return &DryRun{w: w} }

// Publish prints "would push <tag> (<digest>, <image>)" for every tag of every image.
func (d *DryRun) Publish(_ context.Context, images []Image) ([]Result, error) {
	digests, err := validate(images)
	if err != nil {
		return nil, oneLine("dry run", err)
	}
	for i, im := range images {
		for _, t := range im.Tags {
			if _, err := fmt.Fprintf(d.w, "would push %s (%s, %s)\n", t, digests[i], im.Name); err != nil {
				return nil, fmt.Errorf("dry run: %w", err)
			}
		}
	}
	return resultsWith(images, digests, WouldPush), nil
}

// Close does nothing.
func (d *DryRun) Close() error { return nil }
