// Package strictjson decodes hand-written JSON files (images/sources.json,
// images/*/packages.json, the lockfile) strictly, with encoding/json: a key that the Go type
// does not have and anything after the one JSON value are errors, and every error is one
// line that names the key or the position (line and column), so that a typo never passes
// silently. Callers prefix the file name.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Unmarshal decodes the single JSON value in data into v.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describe(data, err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(data, skipSpace(data, end))
		return fmt.Errorf("line %d, column %d: trailing data after the JSON value", line, col)
	}
	return nil
}

// describe turns an encoding/json error into one line naming the key or the position.
func describe(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset-1) // Offset is just after the bad byte
		return fmt.Errorf("line %d, column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset-1)
		return fmt.Errorf("%s: a JSON %s where %s is wanted (line %d, column %d)", typ.Field, typ.Value, typ.Type, line, col)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of the file")
	}
	// encoding/json has no type for unknown keys: `json: unknown field "x"`.
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown key %s", key)
	}
	return err
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
		off++
	}
	return off
}

// position returns the 1-based line and column of the byte at offset off.
func position(data []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
