package sqlitestore

import (
	"testing"

	"github.com/accessledger/accessledger/eventstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, harness())
}
