package main

import (
	"fmt"

	"github.com/yandex-market-mcp/market-chat-mcp/config"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

// option is a setting the seller fills in when the bundle is installed: one of the server's
// environment variables, whose help, default and secrecy come from its declaration in config.
type option struct {
	Key      string // ${user_config.Key} in the manifest
	Env      string
	Type     string // string, boolean or directory, as MCPB knows them
	Title    string
	Required bool
}

// options are what Claude Desktop asks for. The host substitutes an option it has no value
// for as the placeholder itself, so every optional one gets a default.
var options = []option{
	{Key: "api_key", Env: "YANDEX_MARKET_API_KEY", Type: "string", Title: "Api-Key", Required: true},
	{Key: "business_id", Env: "YANDEX_MARKET_BUSINESS_ID", Type: "string", Title: "Business id", Required: true},
	{Key: "read_only", Env: "MCP_READ_ONLY", Type: "boolean", Title: "Read only"},
	{Key: "file_folder", Env: "MCP_FILE_ROOTS", Type: "directory", Title: "Folder of files to send"},
	{Key: "confirm_sends", Env: "MCP_CONFIRM_SENDS", Type: "string", Title: "Ask before sending"},
}

// Manifest is a Claude Desktop extension's manifest.json, version 0.3.
type Manifest struct {
	ManifestVersion  string                `json:"manifest_version"`
	Name             string                `json:"name"`
	DisplayName      string                `json:"display_name"`
	Version          string                `json:"version"`
	Description      string                `json:"description"`
	LongDescription  string                `json:"long_description"`
	Author           Author                `json:"author"`
	Repository       Repository            `json:"repository"`
	Homepage         string                `json:"homepage"`
	Documentation    string                `json:"documentation"`
	Support          string                `json:"support"`
	Server           Server                `json:"server"`
	Tools            []Tool                `json:"tools"`
	PromptsGenerated bool                  `json:"prompts_generated"`
	Keywords         []string              `json:"keywords"`
	Compatibility    Compatibility         `json:"compatibility"`
	UserConfig       map[string]UserOption `json:"user_config"`
}

// Author is who made the extension.
type Author struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Repository is where the extension's source is.
type Repository struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Server says how the host starts the server.
type Server struct {
	Type       string    `json:"type"`
	EntryPoint string    `json:"entry_point"`
	MCPConfig  MCPConfig `json:"mcp_config"`
}

// MCPConfig is the command the host runs, with ${...} placeholders it substitutes.
type MCPConfig struct {
	Command           string              `json:"command"`
	Args              []string            `json:"args"`
	Env               map[string]string   `json:"env"`
	PlatformOverrides map[string]Override `json:"platform_overrides,omitempty"`
}

// Override replaces the command on one system; the host replaces env whole, so it sets none.
type Override struct {
	Command string `json:"command"`
}

// Tool is a tool as the host lists it before the server runs.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Compatibility is where the extension runs.
type Compatibility struct {
	Platforms []string `json:"platforms"`
}

// UserOption is a setting the host asks the user for.
type UserOption struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
	Sensitive   bool   `json:"sensitive,omitempty"`
	Default     any    `json:"default,omitempty"`
}

// platforms are the systems bundles are made for, by GoReleaser's name, with the host's name.
var platforms = []struct{ goos, host string }{{"darwin", "darwin"}, {"linux", "linux"}, {"windows", "win32"}}

// entry is the command in the bundle on macOS and Linux (where it is the launcher); Windows
// gets the .exe beside it.
const entry = "server/" + project

// manifest derives the extension's manifest from the declarations of the tools and settings.
// Its version is the one given; the release step sets the real one.
func manifest(version string) (*Manifest, error) {
	vars := map[string]config.Variable{}
	for _, v := range config.Variables() {
		vars[v.Name] = v
	}
	m := &Manifest{
		ManifestVersion: "0.3",
		Name:            project,
		DisplayName:     "Yandex Market buyer chats",
		Version:         version,
		Description:     description,
		LongDescription: "Finds the buyer chats that wait for the seller, reads them with buyers' photos and files, " +
			"opens chats about orders and returns, and answers with text and files: within Market's limits, " +
			"never sending a message twice, and asking you before a message goes out when Claude can ask. " +
			"It needs an Api-Key of your cabinet with the communication scope (Market's cabinet: Settings → API).",
		Author:        Author{Name: owner, URL: "https://github.com/" + owner},
		Repository:    Repository{Type: "git", URL: repoURL},
		Homepage:      repoURL,
		Documentation: repoURL + "#readme",
		Support:       repoURL + "/issues",
		Server: Server{
			Type:       "binary",
			EntryPoint: entry,
			MCPConfig: MCPConfig{
				Command:           "${__dirname}/" + entry,
				Args:              []string{},
				Env:               map[string]string{},
				PlatformOverrides: map[string]Override{"win32": {Command: "${__dirname}/" + entry + ".exe"}},
			},
		},
		PromptsGenerated: true, // their text depends on the arguments
		Keywords:         []string{"yandex-market", "marketplace", "buyer-chats", "customer-support", "sellers"},
		UserConfig:       map[string]UserOption{},
	}
	for _, p := range platforms {
		m.Compatibility.Platforms = append(m.Compatibility.Platforms, p.host)
	}
	for _, d := range tools.All {
		def := d.Definition()
		m.Tools = append(m.Tools, Tool{Name: def.Name, Description: def.Title})
	}
	for _, o := range options {
		v, ok := vars[o.Env]
		if !ok {
			return nil, fmt.Errorf("option %s: the server has no variable %s", o.Key, o.Env)
		}
		u := UserOption{Type: o.Type, Title: o.Title, Description: v.Help, Required: o.Required, Sensitive: v.Secret}
		switch {
		case o.Required:
		case o.Type == "boolean":
			u.Default = false
		default:
			u.Default = v.Default // "" stands for unset, as the server reads it
		}
		m.UserConfig[o.Key] = u
		m.Server.MCPConfig.Env[o.Env] = "${user_config." + o.Key + "}"
	}
	return m, nil
}

// forPlatform is m narrowed to one system, for that system's bundle.
func (m Manifest) forPlatform(host string, version string) *Manifest {
	m.Version = version
	m.Compatibility.Platforms = []string{host}
	return &m
}

// toolNames lists the manifest's tools by name.
func (m *Manifest) toolNames() []string {
	var names []string
	for _, t := range m.Tools {
		names = append(names, t.Name)
	}
	return names
}
