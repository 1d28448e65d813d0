package debugproducer

import "github.com/streamforge/streamforge/libs/protocol"

// Signing is where debug-producer finds queue-manager's message signing
// secret, so that workers queue-manager launched with MESSAGE_SIGNING on act
// on its commands: each command is signed with its task's key, derived from
// the secret as queue-manager derives it (protocol.TaskKey). Without either
// the commands go unsigned, which only hand-started workers (signing off)
// obey.
type Signing struct {
	Secret string `envconfig:"MESSAGE_SIGNING_SECRET" desc:"queue-manager's message signing secret: commands are signed with their task's key derived from it (workers launched with signing on ignore unsigned ones)"`
	File   string `envconfig:"MESSAGE_SIGNING_SECRET_FILE" desc:"file holding MESSAGE_SIGNING_SECRET (devstack keeps one in its data directory: data/signing.secret)"`
}

// key returns the task queueID's signing key, nil when no secret is set.
func (s Signing) key(queueID string) ([]byte, error) {
	secret, err := protocol.LoadSigningSecret(s.Secret, s.File)
	if err != nil || secret == "" {
		return nil, err
	}
	return protocol.TaskKey([]byte(secret), queueID), nil
}
