package markettest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// Size limits of request bodies.
const (
	// maxJSONBody is the API's documented limit of a request body.
	maxJSONBody = 512 << 10
	// maxFileSize is the documented limit of a file sent with sendFileToChat.
	maxFileSize = 5 << 20
	// maxUploadBody leaves room for the multipart framing around a file of maxFileSize.
	// Assumption: the API's 512 KB body limit cannot apply to file uploads, which may be 5 MB.
	maxUploadBody = maxFileSize + 1<<20
)

// call is one request to an operation, with its body already read.
type call struct {
	r     *http.Request
	op    *operation
	query url.Values
	// body holds at most op.bodyLimit()+1 bytes, so that a body over the limit can be told.
	body []byte
}

// id reads a required positive integer query parameter such as chatId.
func (c *call) id(name string) (int64, error) {
	v := c.query.Get(name)
	if v == "" {
		return 0, badRequestf("Required request parameter '%s' is not present", name)
	}
	return positive(name, v)
}

func positive(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, badRequestf("Parameter %s must be a positive integer (rejected value: '%s')", name, v)
	}
	return n, nil
}

// limit reads the optional limit parameter; the chat methods refuse values out of range rather
// than clamp them.
func (c *call) limit(def, most int) (int, error) {
	v := c.query.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, badRequestf("Parameter limit must be an integer (rejected value: '%s')", v)
	case n < 1:
		return 0, badRequestf("Parameter limit must be greater than or equal to '1' (rejected value: '%s')", v)
	case n > most:
		return 0, badRequestf("Parameter limit must be less than or equal to '%d' (rejected value: '%s')", most, v)
	}
	return n, nil
}

// cursor decodes the page token, under either of its two names, into n keys; it returns nil
// keys for the first page.
func (c *call) cursor(digest uint64, n int) ([]int64, error) {
	token := cmp.Or(c.query.Get("pageToken"), c.query.Get("page_token"))
	if token == "" {
		return nil, nil
	}
	return decodeToken(token, digest, n)
}

// requireContentType answers 415 unless the request's media type is want.
func (c *call) requireContentType(want string) (map[string]string, error) {
	ct := c.r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		// Assumption: like the framework the API appears to run on, a missing type is reported
		// as the generic binary one.
		return nil, errorf(http.StatusUnsupportedMediaType, "Content type '%s' not supported",
			cmp.Or(ct, "application/octet-stream"))
	}
	return params, nil
}

func (c *call) checkSize() error {
	if len(c.body) <= c.op.bodyLimit() {
		return nil
	}
	return badRequestf("Request body is too large: the limit is %d bytes", c.op.bodyLimit())
}

// decode reads the required JSON body into v. Unknown fields are ignored, as the API does.
func (c *call) decode(v any) error {
	if _, err := c.requireContentType("application/json"); err != nil {
		return err
	}
	if err := c.checkSize(); err != nil {
		return err
	}
	body := bytes.TrimSpace(c.body)
	if len(body) == 0 || string(body) == "null" {
		return badRequestf("Required request body is missing")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return badRequestf("Malformed request body: %v", err)
		}
		if te.Field == "" {
			return badRequestf("Malformed request body: expected a JSON object, got %s", te.Value)
		}
		return badRequestf("Malformed request body: unexpected %s in field '%s'", te.Value, te.Field)
	}
	if dec.InputOffset() != int64(len(body)) {
		return badRequestf("Malformed request body: unexpected data after the JSON value")
	}
	return checkKeyCase(body, reflect.TypeOf(v).Elem())
}

// checkKeyCase refuses object keys that match a field of t only when case is ignored. Go's
// decoder would fill the field from such a key, while the API matches names exactly and would
// drop it: a client that misspells a key must not pass here and fail there.
func checkKeyCase(data []byte, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil // the decoder has refused whatever is not an object
		}
		for key, value := range obj {
			f, exact := jsonField(t, key)
			if f == nil {
				continue
			}
			if !exact {
				return badRequestf("Malformed request body: unknown field '%s' (did you mean '%s'?)", key, jsonName(*f))
			}
			if err := checkKeyCase(value, f.Type); err != nil {
				return err
			}
		}
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return nil
		}
		for _, item := range items {
			if err := checkKeyCase(item, t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonField finds the field of struct t that key names, and whether key names it exactly.
func jsonField(t reflect.Type, key string) (*reflect.StructField, bool) {
	var folded *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		switch name := jsonName(f); {
		case name == key:
			return &f, true
		case folded == nil && strings.EqualFold(name, key):
			folded = &f
		}
	}
	return folded, false
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return cmp.Or(name, f.Name)
}

// formFileName decodes what browsers encode in a form upload's file name (the HTML standard's
// multipart/form-data encoding). Assumption: the API stores the name as the browser meant it.
var formFileName = strings.NewReplacer("%22", `"`, "%0D", "\r", "%0A", "\n")

// upload is a file received by sendFileToChat.
type upload struct {
	name        string
	contentType string
	data        []byte
}

// upload reads the multipart body's part named "file".
func (c *call) upload() (upload, error) {
	params, err := c.requireContentType("multipart/form-data")
	if err != nil {
		return upload{}, err
	}
	if err := c.checkSize(); err != nil {
		return upload{}, err
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return upload{}, badRequestf("Required request part 'file' is not present")
		}
		if err != nil {
			return upload{}, badRequestf("Malformed multipart body: %v", err)
		}
		if part.FormName() != "file" || part.FileName() == "" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, maxFileSize+1))
		switch {
		case err != nil:
			return upload{}, badRequestf("Malformed multipart body: %v", err)
		case len(data) > maxFileSize:
			// Assumption: the reference documents the 5 MB limit but not the answer to a larger
			// file; a 400 with this message stands in for it.
			return upload{}, badRequestf("File is too large: the limit is 5 MB (%d bytes)", maxFileSize)
		case len(data) == 0:
			// Assumption: an empty file is refused like a missing one.
			return upload{}, badRequestf("File '%s' is empty", part.FileName())
		}
		return upload{
			name:        formFileName.Replace(part.FileName()),
			contentType: cmp.Or(part.Header.Get("Content-Type"), "application/octet-stream"),
			data:        data,
		}, nil
	}
}
