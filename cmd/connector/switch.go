package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"mailconnector/shared/store"
)

func newDisableCmd(a *app) *cobra.Command {
	var reason string
	cmd := command("disable JOB [--reason TEXT] [--jobs FILE] [--state DIR] [--aws]",
		"switch a job off without editing the jobs file: its runs end at once as disabled", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			return cmdSwitch(cmd.Context(), &a.common, args[0], true, reason, time.Now(), a.stdout)
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown by `connector jobs` and in each run's note")
	return cmd
}

func newEnableCmd(a *app) *cobra.Command {
	return command("enable JOB [--jobs FILE] [--state DIR] [--aws]",
		"switch a job on again (over the jobs file's enabled)", exactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			return cmdSwitch(cmd.Context(), &a.common, args[0], false, "", time.Now(), a.stdout)
		})
}

// cmdSwitch stores a job's control: disabled (with the reason) or
// enabled, by the user at now. It takes effect at the job's next run, on
// its schedule; `connector run --job` still runs a disabled job.
func cmdSwitch(ctx context.Context, c *common, id string, off bool, reason string, now time.Time, stdout io.Writer) error {
	j, b, err := c.jobBackend(ctx, id)
	if err != nil {
		return err
	}
	defer b.close()
	ctl := store.JobControl{JobID: j.ID, Disabled: off, Reason: reason, By: operator(), At: now.UTC()}
	if err := b.store.PutJobControl(ctx, ctl); err != nil {
		return fmt.Errorf("job %s: store its control in %s: %w", j.ID, where(c), err)
	}
	if off {
		fmt.Fprintf(stdout, "job %s disabled in %s: its runs end at once as disabled until `connector enable %s`", j.ID, where(c), j.ID)
		if c.aws {
			fmt.Fprint(stdout, " (its EventBridge schedule stays)")
		}
		fmt.Fprintln(stdout, "; `connector run --job "+j.ID+"` still runs it.")
		return nil
	}
	fmt.Fprintf(stdout, "job %s enabled in %s: it runs on its schedule again.\n", j.ID, where(c))
	if !j.IsEnabled() {
		fmt.Fprintf(stdout, "note: the jobs file says enabled: false; this overrides it")
		if c.aws {
			fmt.Fprint(stdout, ", but a job disabled in the jobs file has no schedule on AWS until the jobs file enables it and the stack is deployed")
		}
		fmt.Fprintln(stdout, ".")
	}
	return nil
}

// operator names who switched a job: user@host.
func operator() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	if host == "" {
		return name
	}
	return name + "@" + host
}
