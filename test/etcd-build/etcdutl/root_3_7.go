//go:build etcd3_7

package main

import (
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/etcdutl/v3/etcdutl"
)

func addReleaseFlags(root *cobra.Command) {
	root.PersistentFlags().DurationVar(&etcdutl.FlockTimeout, "timeout", 10*time.Second,
		"time to wait to obtain a file lock on db file, 0 to block indefinitely")
}

func releaseCommands() []*cobra.Command {
	return []*cobra.Command{etcdutl.NewDefragCommand(), etcdutl.NewSnapshotCommand(),
		etcdutl.NewHashKVCommand(), etcdutl.NewVersionCommand(), etcdutl.NewMigrateCommand()}
}
