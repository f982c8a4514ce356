// Command etcdctl is etcd's v3 client (go.etcd.io/etcd/etcdctl/v3/ctlv3), started as etcd 3.6 and 3.7's
// own main starts it: nothing is taken out of the environment first, so an ETCDCTL_* variable etcdctl
// does not know (ETCDCTL_API among them) draws its "unrecognized environment variable" warning here too.
package main

import "go.etcd.io/etcd/etcdctl/v3/ctlv3"

func main() {
	ctlv3.MustStart()
}
