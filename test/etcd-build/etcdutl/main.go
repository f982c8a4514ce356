// Command etcdutl is etcd's offline tool. Its root command lives in etcdutl's own main package,
// which cannot be imported, so the release's command set is named here per minor (root_3_5.go,
// root_3_6.go), as etcd's etcdutl/ctl.go lists it.
package main

import (
	"github.com/spf13/cobra"
	"go.etcd.io/etcd/etcdutl/v3/etcdutl"
	"go.etcd.io/etcd/pkg/v3/cobrautl"
)

func main() {
	root := &cobra.Command{Use: "etcdutl", Short: "An administrative command line tool for etcd3."}
	root.PersistentFlags().StringVarP(&etcdutl.OutputFormat, "write-out", "w", "simple",
		"set the output format (fields, json, protobuf, simple, table)")
	addReleaseFlags(root)
	root.AddCommand(releaseCommands()...)
	root.SetHelpTemplate(`{{.UsageString}}`)
	cobra.EnablePrefixMatching = true
	if err := root.Execute(); err != nil {
		cobrautl.ExitWithError(cobrautl.ExitError, err)
	}
}
