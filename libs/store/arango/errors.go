package arango

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/arangodb/go-driver/v2/arangodb/shared"

	"github.com/streamforge/streamforge/libs/store"
)

// ArangoDB error numbers the adapter acts on (ArangoDB's error table, as
// github.com/arangodb/go-driver/v2/arangodb/shared lists it).
const (
	errNumConflict         = shared.ErrArangoConflict                 // 1200: write-write conflict
	errNumDocumentNotFound = shared.ErrArangoDocumentNotFound         // 1202
	errNumNoCollection     = shared.ErrArangoDataSourceNotFound       // 1203: collection or view not found
	errNumDuplicateName    = shared.ErrArangoDuplicateName            // 1207: collection or database name taken
	errNumUniqueViolated   = shared.ErrArangoUniqueConstraintViolated // 1210
	errNumNoDatabase       = shared.ErrArangoDatabaseNotFound         // 1228
	errNumCursorNotFound   = shared.ErrCursorNotFound                 // 1600
	errNumGraphNotFound    = shared.ErrGraphNotFound                  // 1924
	errNumGraphDuplicate   = shared.ErrGraphDuplicate                 // 1925
)

// transientErrorNums say something about the server's state, not about the
// request: the same request may succeed later.
var transientErrorNums = map[int]bool{
	shared.ErrLockTimeout:                         true, // 18
	shared.ErrDeadlock:                            true, // 29
	shared.ErrShuttingDown:                        true, // 30
	shared.ErrResourceLimit:                       true, // 32
	shared.ErrStartingUp:                          true, // 38
	shared.ErrArangoReadOnly:                      true, // 1004: read-only, or write concern not met
	errNumConflict:                                true, // 1200
	shared.ErrArangoTryAgain:                      true, // 1302
	shared.ErrArangoBusy:                          true, // 1303
	shared.ErrReplicationWriteConcernNotFulfilled: true, // 1429
	shared.ErrClusterTimeout:                      true, // 1457
	shared.ErrClusterConnectionLost:               true, // 1465
	shared.ErrClusterBackendUnavailable:           true, // 1478
	shared.ErrClusterAgencyCommunicationFailed:    true, // 1492
	shared.ErrClusterLeadershipChallengeOngoing:   true, // 1495
	shared.ErrClusterNotLeader:                    true, // 1496
}

// notFoundErrorNums name something that does not exist.
var notFoundErrorNums = map[int]bool{
	errNumDocumentNotFound: true,
	errNumNoCollection:     true,
	errNumNoDatabase:       true,
	errNumCursorNotFound:   true,
	errNumGraphNotFound:    true,
}

// serverError is an error ArangoDB answered, with its HTTP code and error
// number in the message.
type serverError struct{ shared.ArangoError }

func (e serverError) Error() string {
	msg := e.ErrorMessage
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	return fmt.Sprintf("arangodb: %s (HTTP %d, error %d)", msg, e.Code, e.ErrorNum)
}

func (e serverError) Unwrap() error { return e.ArangoError }

// arangoError returns the ArangoDB error in err's chain.
func arangoError(err error) (shared.ArangoError, bool) {
	var ae shared.ArangoError
	if errors.As(err, &ae) && ae.HasError {
		return ae, true
	}
	return shared.ArangoError{}, false
}

// hasErrorNum reports whether err is an ArangoDB error with one of nums.
func hasErrorNum(err error, nums ...int) bool {
	ae, ok := arangoError(err)
	if !ok {
		return false
	}
	for _, n := range nums {
		if ae.ErrorNum == n {
			return true
		}
	}
	return false
}

// transientStatus reports whether an HTTP status says "try again later".
func transientStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// classify maps an error from the driver or the transport onto the port's
// errors: store.ErrUnavailable for what may pass by itself (the server is
// down or overloaded, a timeout, a lost connection, HTTP 5xx, and the error
// numbers in transientErrorNums), store.ErrNotFound for a missing document,
// collection, database or graph. Other errors keep their message. A
// cancelled context is returned as it is: the caller asked to stop.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || classified(err) {
		return err
	}
	if ae, ok := arangoError(err); ok {
		se := serverError{ae}
		switch {
		case transientStatus(ae.Code) || transientErrorNums[ae.ErrorNum]:
			return fmt.Errorf("%w: %w", store.ErrUnavailable, se)
		case ae.Code == http.StatusNotFound || notFoundErrorNums[ae.ErrorNum]:
			return fmt.Errorf("%w: %w", store.ErrNotFound, se)
		}
		return se
	}
	// A certificate the client does not trust will not pass by itself.
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// classified reports whether err already carries one of the port's errors.
func classified(err error) bool {
	for _, e := range []error{store.ErrUnavailable, store.ErrNotFound, store.ErrExists, store.ErrConflict} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// readError decodes ArangoDB's error object from an error response.
func readError(code int, body io.Reader) error {
	var rs shared.ResponseStruct
	// A body that is not an error object still leaves the status code.
	_ = json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&rs)
	return rs.AsArangoErrorWithCode(code)
}
