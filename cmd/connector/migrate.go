package main

import (
	"os"

	"github.com/spf13/cobra"

	"mailconnector/shared/job"
)

func newMigrateCmd(a *app) *cobra.Command {
	var to string
	cmd := command("migrate JOB --to graph [--jobs FILE]", "print the graph job equivalent to an ews job (Exchange Online ends EWS on 1 April 2027)", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			if to != "graph" {
				return &exitError{code: 2, msg: "connector migrate: --to graph is the one target (EWS jobs move to Microsoft Graph)"}
			}
			if a.jobsFile == "" {
				return &exitError{code: 2, msg: "connector: --jobs FILE is required (or set CONNECTOR_JOBS)"}
			}
			if _, err := a.job(args[0]); err != nil {
				return err
			}
			src, err := os.ReadFile(a.jobsFile)
			if err != nil {
				return &exitError{code: 1, msg: "connector: " + err.Error()}
			}
			out, err := job.MigrateToGraph(src, args[0])
			if err != nil {
				return &exitError{code: 1, msg: "connector: " + err.Error()}
			}
			_, err = a.stdout.Write(out)
			return err
		})
	cmd.Flags().StringVar(&to, "to", "", "the protocol to move to: graph")
	return cmd
}
