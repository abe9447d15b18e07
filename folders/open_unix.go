//go:build unix

package folders

import "syscall"

// openFlags open a file without waiting: a named pipe with no writer would block the open.
const openFlags = syscall.O_RDONLY | syscall.O_NONBLOCK
