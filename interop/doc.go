// Package interop proves that MCP clients other than the project's own Go client work with the
// built server: the official conformance suite over Streamable HTTP, and the TypeScript SDK's
// Client over stdio, Streamable HTTP and HTTP+SSE.
//
// Both need Node 22 and npm packages, so the tests build only with the interop tag:
// `go test -tags interop ./interop`. They install what they need themselves (see nodetools), once
// per version of package-lock.json, into the user's cache folder, on any machine that has Go and
// npm (Node 20 is enough to run the install).
package interop
