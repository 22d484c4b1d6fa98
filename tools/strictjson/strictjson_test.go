package strictjson

import (
	"reflect"
	"strings"
	"testing"
)

type config struct {
	Name     string   `json:"name"`
	Priority int      `json:"priority"`
	List     []string `json:"list"`
	Nested   struct {
		Flag bool `json:"flag"`
	} `json:"nested"`
}

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		in, wantErr string
		want        config
	}{
		{in: `{"name": "a", "list": ["x"]}`, want: config{Name: "a", List: []string{"x"}}},
		{in: "  {\"name\": \"a\"}\n\n  ", want: config{Name: "a"}},
		{in: `{"name": "a", "lsit": ["x"]}`, wantErr: `unknown key "lsit"`},
		{in: `{"nested": {"flga": true}}`, wantErr: `unknown key "flga"`},
		{in: "{\"name\": \"a\"}\n{\"name\": \"b\"}\n", wantErr: "line 2, column 1: trailing data after the JSON value"},
		{in: `{"name": "a"} x`, wantErr: "line 1, column 15: trailing data after the JSON value"},
		{in: `{"name": "a"}]`, wantErr: "line 1, column 14: trailing data after the JSON value"},
		{in: "{\n  \"name\": \"a\",\n}", wantErr: "line 3, column 1: invalid character '}' looking for beginning of object key string"},
		{in: `{"priority": "high"}`, wantErr: "priority: a JSON string where int is wanted (line 1, column 19)"},
		{in: `{"nested": {"flag": 1}}`, wantErr: "nested.flag: a JSON number where bool is wanted"},
		{in: `{"name": "a"`, wantErr: "unexpected end of the file"},
		{in: ``, wantErr: "unexpected end of the file"},
	} {
		var got config
		err := Unmarshal([]byte(tc.in), &got)
		if tc.wantErr == "" {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q: %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line with %q", tc.in, err, tc.wantErr)
		}
	}
}
