package publish

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestIntegrationDaemon(t *testing.T) {
	if os.Getenv("CI_IMAGES_INTEGRATION") != "1" {
		t.Skip("SKIPPING Docker engine test: set CI_IMAGES_INTEGRATION=1")
	}
	set := newSet(t, time.Now().UnixNano()%1000, 1<<10)
	prefix := fmt.Sprintf("ci-images-publish-test-%d", os.Getpid())
	imgs := set.publishImages(t, prefix, devStamp(42))[:2]
	t.Cleanup(func() {
		for _, im := range imgs {
			for _, tag := range im.Tags {
				exec.Command("docker", "image", "rm", tag.String()).Run()
			}
		}
	})
	d := NewDaemon()
	rs, err := d.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != Pushed {
			t.Errorf("first load: %s %s", r.Name, r.Status)
		}
	}
	rs, err = d.Publish(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != Unchanged {
			t.Errorf("second load: %s %s", r.Name, r.Status)
		}
	}
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", imgs[0].Tags[0].String()).Output()
	want, _ := imgs[0].Image.ConfigName()
	if err != nil || string(out) != want.String()+"\n" {
		t.Errorf("docker image inspect %s: %q, %v; want %s", imgs[0].Tags[0], out, err, want)
	}
}
