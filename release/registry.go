package main

import (
	"github.com/yandex-market-mcp/market-chat-mcp/config"
)

// schemaURL is the server.json schema the MCP Registry takes: its version 2025-12-11.
const schemaURL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"

// ServerJSON is the MCP Registry's description of a server version.
type ServerJSON struct {
	Schema      string       `json:"$schema"`
	Name        string       `json:"name"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Version     string       `json:"version"`
	WebsiteURL  string       `json:"websiteUrl"`
	Repository  RegistryRepo `json:"repository"`
	Packages    []Package    `json:"packages"`
}

// RegistryRepo is the server's source.
type RegistryRepo struct {
	URL    string `json:"url"`
	Source string `json:"source"`
}

// Package is one way to install the server.
type Package struct {
	RegistryType         string     `json:"registryType"`
	Identifier           string     `json:"identifier"`
	Version              string     `json:"version,omitempty"`
	FileSHA256           string     `json:"fileSha256,omitempty"`
	Transport            Transport  `json:"transport"`
	EnvironmentVariables []Variable `json:"environmentVariables,omitempty"`
}

// Transport is how a client talks to the installed package.
type Transport struct {
	Type string `json:"type"`
}

// Variable is an environment variable a client sets to run the package.
type Variable struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	IsRequired  bool   `json:"isRequired,omitempty"`
	IsSecret    bool   `json:"isSecret,omitempty"`
	Default     string `json:"default,omitempty"`
	Value       string `json:"value,omitempty"`
}

// serverJSON describes version: the bundles by their release address and SHA-256 (the bundle's
// manifest carries the settings), and the container image with every environment variable of
// the server. A client runs the image over stdio; the image's own default is HTTP.
func serverJSON(version string, bundles []bundle) (*ServerJSON, error) {
	s := &ServerJSON{
		Schema:      schemaURL,
		Name:        registryName,
		Title:       "Yandex Market buyer chats",
		Description: description,
		Version:     version,
		WebsiteURL:  repoURL,
		Repository:  RegistryRepo{URL: repoURL, Source: "github"},
	}
	for _, b := range bundles {
		sum, err := sha256File(b.path)
		if err != nil {
			return nil, err
		}
		s.Packages = append(s.Packages, Package{
			RegistryType: "mcpb",
			Identifier:   repoURL + "/releases/download/v" + version + "/" + bundleName(version, b.goos),
			Version:      version,
			FileSHA256:   sum,
			Transport:    Transport{Type: "stdio"},
		})
	}
	required := map[string]bool{}
	for _, o := range options {
		required[o.Env] = o.Required
	}
	oci := Package{RegistryType: "oci", Identifier: image + ":" + version, Version: version, Transport: Transport{Type: "stdio"}}
	for _, v := range config.Variables() {
		e := Variable{Name: v.Name, Description: v.Help, IsRequired: required[v.Name], IsSecret: v.Secret, Default: v.Default}
		if v.Name == "MCP_TRANSPORT" {
			e.Default, e.Value = "", "stdio"
		}
		oci.EnvironmentVariables = append(oci.EnvironmentVariables, e)
	}
	s.Packages = append(s.Packages, oci)
	return s, nil
}
