#!/bin/sh
# Claude Desktop starts one command per system; on Linux it is this, which runs the build of the
# machine's architecture.
dir=$(dirname "$0")
case $(uname -m) in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*)
	echo "market-chat-mcp: no build for $(uname -m); go install github.com/yandex-market-mcp/market-chat-mcp@latest builds one" >&2
	exit 1
	;;
esac
exec "$dir/linux-$arch/market-chat-mcp" "$@"
