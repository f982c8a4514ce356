//go:build etcd3_6

package main

import (
	"github.com/spf13/cobra"
	"go.etcd.io/etcd/etcdutl/v3/etcdutl"
)

func addReleaseFlags(*cobra.Command) {}

func releaseCommands() []*cobra.Command {
	return []*cobra.Command{etcdutl.NewDefragCommand(), etcdutl.NewSnapshotCommand(),
		etcdutl.NewHashKVCommand(), etcdutl.NewVersionCommand(), etcdutl.NewMigrateCommand()}
}
