// Command etcd is etcd's own server entry point, built from etcd's published Go module
// (go.etcd.io/etcd/server/v3) so that test releases Debian does not package can run live.
// scripts/etcd-fetch.sh builds it; nothing here is shipped.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
