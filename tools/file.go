package tools

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path/filepath"

	"github.com/yandex-market-mcp/market-chat-mcp/folders"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/untrusted"
)

// SendFileInput are send_file's arguments: a path inside the allowed folders, or the content.
type SendFileInput struct {
	ChatID        int64  `json:"chat_id" jsonschema:"description=The chat to send the file to.,minimum=1"`
	Path          string `json:"path,omitempty" jsonschema:"description=A file inside the folders the seller allowed (MCP_FILE_ROOTS): absolute or relative to such a folder. Give this or content_base64.,minLength=1,maxLength=4096"`
	ContentBase64 string `json:"content_base64,omitempty" jsonschema:"description=The file's bytes in standard base64 (at most 5 MB decoded). Give this with file_name or give path.,minLength=1,maxLength=6990508"`
	FileName      string `json:"file_name,omitempty" jsonschema:"description=The name the buyer sees\\, with its extension (e.g. invoice.pdf). Required with content_base64; with path it defaults to the file's own name.,minLength=1,maxLength=255"`
	In
}

// Validate checks the rules a top-level schema cannot portably express.
func (in SendFileInput) Validate() error {
	switch {
	case (in.Path == "") == (in.ContentBase64 == ""):
		return errors.New("give exactly one of path and content_base64")
	case in.ContentBase64 != "" && in.FileName == "":
		return errors.New("file_name is required with content_base64")
	}
	if in.FileName != "" {
		if err := untrusted.CheckFileName(in.FileName); err != nil {
			return fmt.Errorf("file_name %w", err)
		}
	}
	return nil
}

// SentFile is send_file's result.
type SentFile struct {
	ChatID      int64  `json:"chat_id"`
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size" jsonschema:"description=Size in bytes"`
	SentAt      string `json:"sent_at,omitempty" jsonschema:"description=When Market accepted the file; absent when nothing was sent,format=date-time"`
	Asked
}

var sendFile = &Tool[SendFileInput, SentFile]{
	Name:  "send_file",
	Title: "Send a file to a buyer",
	Description: `Sends a file (at most 5 MB: a photo, an invoice, instructions) to a chat on behalf of the seller; the buyer sees it at once. ` +
		`Give either path, a file inside the folders the seller allowed, or content_base64 with file_name. ` +
		`The server never delivers the same file twice, so do not resend on an unclear error: check get_history.`,
	Op: market.OpSendFile,
	Call: func(ctx context.Context, env *Env, in SendFileInput) (SentFile, error) {
		f, err := in.file(env.Folders)
		if err != nil {
			return SentFile{}, err
		}
		d, err := env.ask(ctx, question{message: func(ctx context.Context) (string, error) {
			return env.sendQuestion(ctx, in.ChatID, "Send this file to the buyer?\n",
				fmt.Sprintf("%s (%s, %s)", f.Name, f.ContentType, byteSize(len(f.Data))))
		}})
		if err != nil {
			return SentFile{}, err
		}
		out := SentFile{ChatID: in.ChatID, FileName: f.Name, ContentType: f.ContentType, Size: len(f.Data), Asked: d.asked("The file was not sent")}
		if !d.sends() {
			return out, nil
		}
		sent, err := env.Market.SendFile(ctx, in.ChatID, f)
		if err != nil {
			return SentFile{}, sendError(ctx, env, in.ChatID, err)
		}
		out.SentAt = timeOut(sent.At)
		return out, nil
	},
}

// file reads or decodes the file to send, and names it by the one rule for what a buyer sees.
func (in SendFileInput) file(fs *folders.Set) (market.File, error) {
	f := market.File{Name: in.FileName}
	var err error
	if in.Path != "" {
		var name string
		if f.Data, name, err = readFile(fs, in.Path); err != nil {
			return f, err
		}
		if f.Name == "" {
			if err := untrusted.CheckFileName(name); err != nil {
				return f, fmt.Errorf("the file's own name %q %v; give file_name to send it under another", name, err)
			}
			f.Name = name
		}
	} else if f.Data, err = decodeBase64(in.ContentBase64); err != nil {
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

// readFile reads a file from the folders the seller allowed.
func readFile(fs *folders.Set, path string) ([]byte, string, error) {
	if fs == nil || fs.Empty() {
		return nil, "", errors.New("send_file cannot read files from disk: no folder is allowed. The seller can allow one by setting MCP_FILE_ROOTS to a folder (e.g. MCP_FILE_ROOTS=/home/me/market-files); meanwhile send the file as content_base64 with file_name")
	}
	return fs.Read(path, market.MaxFileSize)
}
