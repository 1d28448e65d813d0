package demo

import (
	"errors"
	"flag"
)

// parse parses a command's flags. It reports ok false with the exit code
// when the command must not run: 0 after --help (the flag package printed
// the usage), 2 for a bad flag (it printed the problem and the usage).
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	default:
		return 2, false
	}
}
