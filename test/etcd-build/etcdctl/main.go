// Command etcdctl is etcd's v3 client (go.etcd.io/etcd/etcdctl/v3/ctlv3), as etcd's own main
// starts it: ETCDCTL_API is dropped first so it never reaches ctlv3's environment parsing.
package main

import (
	"os"

	"go.etcd.io/etcd/etcdctl/v3/ctlv3"
)

func main() {
	os.Unsetenv("ETCDCTL_API")
	ctlv3.MustStart()
}
