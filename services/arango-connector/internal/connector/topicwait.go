package connector

import (
	"time"

	"github.com/rs/zerolog"
)

// topicWaitEvery is how often a wait for the data topic is logged again
// after the first check.
const topicWaitEvery = time.Minute

// topicWaitLogger returns the consumer's OnTopicsMissing: one line when the
// data topic is first found missing (its loader has not created it yet),
// then one a minute while the wait lasts.
func topicWaitLogger(log zerolog.Logger) func(missing []string, checks int, next time.Duration) {
	var since, told time.Time
	return func(missing []string, checks int, next time.Duration) {
		now := time.Now()
		if checks == 1 {
			since = now
		}
		if checks != 1 && now.Sub(told) < topicWaitEvery {
			return
		}
		told = now
		log.Info().Strs("missing", missing).Int("checks", checks).Dur("waited", now.Sub(since)).Dur("next_check", next).
			Msg("waiting for the data topic to exist (created by its loader)")
	}
}
