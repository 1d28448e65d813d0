// Command pause is the sandbox ("pause") image of the local Kubernetes node
// (platform/kube/node.sh): it holds a Pod's namespaces open and exits on
// SIGTERM or SIGINT, as registry.k8s.io/pause does, without needing a
// registry to pull it from.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
