//go:build !unix

package folders

import "os"

// openFlags open a file for reading.
const openFlags = os.O_RDONLY
