package image

import "testing"

// The engine answers a load with HTTP 200 and a JSON message stream; an error in it fails the
// load.
func TestLoadError(t *testing.T) {
	for _, tc := range []struct{ resp, want string }{
		{"", ""},
		{`{"stream":"Loaded image: ci-images/debian15:15\n"}` + "\n", ""},
		{`{"stream":"Loaded image ID: sha256:abc\n"}{"stream":"Loaded image: x:1\n"}`, ""},
		{`{"errorDetail":{"message":"invalid diffID for layer 0: expected \"sha256:a\", got \"sha256:b\""},"error":"invalid diffID for layer 0"}` + "\n",
			`the Docker engine refused it: invalid diffID for layer 0: expected "sha256:a", got "sha256:b"`},
		{`{"stream":"..."}` + "\n" + `{"error":"archive/tar: invalid tar header"}`, "the Docker engine refused it: archive/tar: invalid tar header"},
		{"<html>proxy error</html>", `unreadable response from the Docker engine "<html>proxy error</html>": invalid character '<' looking for beginning of value`},
	} {
		got := ""
		if err := loadError(tc.resp); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%q: error %q, want %q", tc.resp, got, tc.want)
		}
	}
}
