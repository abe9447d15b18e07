package tools

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// SendFileInput are send_file's arguments: a path inside the allowed folders, or the content.
type SendFileInput struct {
	ChatID        int64  `json:"chat_id" jsonschema:"description=The chat to send the file to.,minimum=1"`
	Path          string `json:"path,omitempty" jsonschema:"description=A file inside the folders the seller allowed (MCP_FILE_ROOTS): absolute or relative to such a folder. Give this or content_base64.,minLength=1,maxLength=4096"`
	ContentBase64 string `json:"content_base64,omitempty" jsonschema:"description=The file's bytes in standard base64 (at most 5 MB decoded). Give this with file_name or give path.,minLength=1,maxLength=6990508"`
	FileName      string `json:"file_name,omitempty" jsonschema:"description=The name the buyer sees\\, with its extension (e.g. invoice.pdf). Required with content_base64; with path it defaults to the file's own name.,minLength=1,maxLength=255"`
}

// Validate checks the rules a top-level schema cannot portably express.
func (in SendFileInput) Validate() error {
	switch {
	case (in.Path == "") == (in.ContentBase64 == ""):
		return errors.New("give exactly one of path and content_base64")
	case in.ContentBase64 != "" && in.FileName == "":
		return errors.New("file_name is required with content_base64")
	case strings.ContainsAny(in.FileName, `/\`):
		return errors.New("file_name must be a bare file name, without folders")
	case strings.ContainsFunc(in.FileName, unicode.IsControl):
		return errors.New("file_name must not contain control characters such as line breaks")
	}
	return nil
}

// SentFile is send_file's result.
type SentFile struct {
	ChatID      int64  `json:"chat_id"`
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size" jsonschema:"description=Size in bytes"`
	SentAt      string `json:"sent_at" jsonschema:"description=When Market accepted the file,format=date-time"`
}

var sendFile = &Tool[SendFileInput, SentFile]{
	Name:  "send_file",
	Title: "Send a file to a buyer",
	Description: `Sends a file (at most 5 MB: a photo, an invoice, instructions) to a chat on behalf of the seller; the buyer sees it at once. ` +
		`Give either path, a file inside the folders the seller allowed, or content_base64 with file_name. ` +
		`The server never delivers the same file twice, so do not resend on an unclear error: check get_history.`,
	Op: market.OpSendFile,
	Call: func(ctx context.Context, env *Env, in SendFileInput) (SentFile, error) {
		f, err := in.file(env.FileRoots)
		if err != nil {
			return SentFile{}, err
		}
		if err := env.Market.SendFile(ctx, in.ChatID, f); err != nil {
			return SentFile{}, about(err, "chat %d", in.ChatID)
		}
		return SentFile{ChatID: in.ChatID, FileName: f.Name, ContentType: f.ContentType, Size: len(f.Data), SentAt: timeOut(time.Now())}, nil
	},
}

// file reads or decodes the file to send.
func (in SendFileInput) file(roots []string) (market.File, error) {
	f := market.File{Name: in.FileName}
	var err error
	if in.Path != "" {
		f.Data, err = readInRoots(roots, in.Path)
		if f.Name == "" {
			f.Name = filepath.Base(in.Path)
		}
	} else {
		f.Data, err = decodeBase64(in.ContentBase64)
	}
	if err != nil {
		return f, err
	}
	if f.ContentType = mime.TypeByExtension(filepath.Ext(f.Name)); f.ContentType == "" {
		f.ContentType = http.DetectContentType(f.Data)
	}
	return f, nil
}

func decodeBase64(s string) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > market.MaxFileSize+2 { // +2: padding slack
		return nil, fmt.Errorf("content_base64 is over the 5 MB limit for files")
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("content_base64 is not valid base64: %v", err)
		}
	}
	if len(data) > market.MaxFileSize {
		return nil, fmt.Errorf("content_base64 decodes to %d bytes, over the 5 MB limit for files", len(data))
	}
	return data, nil
}

// readInRoots reads a regular file of at most market.MaxFileSize bytes that lies inside one of
// roots. os.Root resolves the path, links included, and refuses any that leads out of the root.
func readInRoots(roots []string, path string) ([]byte, error) {
	if len(roots) == 0 {
		return nil, errors.New("send_file cannot read files from disk: no folder is allowed. The seller can allow one by setting MCP_FILE_ROOTS to a folder (e.g. MCP_FILE_ROOTS=/home/me/market-files); meanwhile send the file as content_base64 with file_name")
	}
	for _, root := range roots {
		rel, ok := inside(root, path)
		if !ok {
			continue
		}
		return readFromRoot(root, rel, path)
	}
	return nil, fmt.Errorf("path %q is outside the folders send_file may read (%s)", path, strings.Join(roots, ", "))
}

// inside returns path relative to root when it lies inside it, judging by the names alone.
func inside(root, path string) (string, bool) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	rel, err := filepath.Rel(root, filepath.Clean(path))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

func readFromRoot(root, rel, path string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("the allowed folder %q cannot be opened: %v", root, err)
	}
	defer r.Close()
	f, err := r.Open(rel)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("file %q does not exist", path)
		}
		return nil, fmt.Errorf("file %q cannot be read: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("file %q cannot be read: %v", path, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%q is not a regular file", path)
	case fi.Size() > market.MaxFileSize:
		return nil, fmt.Errorf("file %q is %d bytes, over the 5 MB limit for files", path, fi.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, market.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("file %q cannot be read: %v", path, err)
	}
	if len(data) > market.MaxFileSize {
		return nil, fmt.Errorf("file %q grew over the 5 MB limit for files while being read", path)
	}
	return data, nil
}
