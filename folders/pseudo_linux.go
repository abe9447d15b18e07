package folders

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// pseudoFileSystems are Linux's file systems whose files the kernel makes up: they look like
// regular files of size 0 or 4096 and hold the state of the system and of processes, such as
// /proc/self/environ with every secret of the server's environment.
var pseudoFileSystems = map[uint32]string{
	0x9fa0:     "proc",
	0x62656572: "sysfs",
	0x64626720: "debugfs",
	0x74726163: "tracefs",
	0x73636673: "securityfs",
	0x27e0eb:   "cgroup",
	0x63677270: "cgroup2",
	0xcafe4a11: "bpf",
	0x62656570: "configfs",
	0xde5e81e4: "efivarfs",
	0x6165676c: "pstore",
	0x65735543: "fusectl",
	0x42494e4d: "binfmt_misc",
}

// kernelMounts are where the pseudo file systems are mounted; a folder that holds one of them
// would let a path reach it.
var kernelMounts = []string{"/proc", "/sys", "/dev"}

func checkFolder(path string) error {
	for _, m := range kernelMounts {
		if rel, err := filepath.Rel(path, m); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
			return fmt.Errorf("holds %s, the kernel's view of the system, whose files must never be sent", m)
		}
	}
	return nil
}

func checkOpened(root *os.Root) error {
	f, err := root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	return checkFile(f)
}

// checkFile refuses a file of a pseudo file system.
func checkFile(f *os.File) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var st syscall.Statfs_t
	var statErr error
	if err := conn.Control(func(fd uintptr) { statErr = syscall.Fstatfs(int(fd), &st) }); err != nil {
		return err
	}
	if statErr != nil {
		return statErr
	}
	if name, ok := pseudoFileSystems[uint32(st.Type)]; ok {
		return fmt.Errorf("it is on %s, a pseudo file system of the kernel, whose files must never be sent", name)
	}
	return nil
}
