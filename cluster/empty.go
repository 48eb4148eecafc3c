package cluster

import (
	"io"
	"strings"
)

func emptySnapshot() io.Reader {
	return strings.NewReader(`{"format":"pvecfs-tree-v1","entries":0}` + "\n")
}
