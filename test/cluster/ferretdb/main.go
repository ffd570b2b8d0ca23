// Command ferretdb runs FerretDB v1 (a MongoDB wire-protocol server) embedded
// as a library, on a PostgreSQL database (-postgresql-url) or on its pure-Go
// SQLite backend, so the cluster tests have a MongoDB-compatible server without
// installing MongoDB or using Docker. On the shop's workload PostgreSQL is the
// faster one by far (the README's Performance section); SQLite needs no server.
//
//	CGO_ENABLED=0 go build -o /tmp/ferretdb-test . && /tmp/ferretdb-test -listen-addr 127.0.0.1:27017 -state-dir /tmp/shop-db
//	/tmp/ferretdb-test -listen-addr 127.0.0.1:27017 -postgresql-url postgres://postgres@127.0.0.1:5432/shop
//
// Once it listens it prints one line to stdout, the MongoDB URI
// (e.g. "mongodb://127.0.0.1:27017/"), so a port of 0 may be used. It runs until
// SIGINT or SIGTERM and then exits 0; logs (-log-level, default warn) go to stderr.
//
// FerretDB 1.x runs update/findAndModify as read, modify in Go, write back,
// with no isolation (FerretDB issue #2168), so concurrent conditional updates
// such as findOneAndUpdate({stock: {$gte: 2}}, {$inc: {stock: -2}}) lose
// updates and oversell. By default (-serialize) clients therefore talk to a
// small relay that lets one command at a time reach each collection, which
// makes every single command atomic, as on MongoDB. Multi-document transactions are
// not supported either way.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on (port 0 picks a free one)")
	stateDir := flag.String("state-dir", "", "directory for the SQLite files (created if missing); default: a temp dir removed on exit")
	postgresqlURL := flag.String("postgresql-url", "", "run on this PostgreSQL database (e.g. postgres://127.0.0.1:5432/shop) instead of SQLite files in -state-dir")
	// FerretDB logs every failed command (ok: 0) at WARN with a full message
	// dump; use -log-level error to silence that, debug to see all traffic.
	serialize := flag.Bool("serialize", true, "relay clients through locks so that commands on one collection run one at a time (see above)")
	var level slog.Level = slog.LevelWarn
	flag.TextVar(&level, "log-level", level, "log level: debug, info, warn or error")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	var tmpDir string // set when we created the state dir ourselves
	cleanup := func() {
		if tmpDir != "" {
			os.RemoveAll(tmpDir)
		}
	}
	fail := func(msg string, err error) {
		logger.Error(msg, "error", err)
		cleanup()
		os.Exit(1)
	}

	dir := *stateDir
	if dir == "" {
		var err error
		if tmpDir, err = os.MkdirTemp("", "ferretdb-state-"); err != nil {
			fail("creating temp state dir", err)
		}
		dir = tmpDir
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fail("creating state dir", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		fail("resolving state dir", err)
	}

	// The SQLite handler wants a "file:" URI naming an existing directory, with a
	// trailing slash; each MongoDB database becomes one <name>.sqlite file in it.
	sqliteURL := (&url.URL{Scheme: "file", Path: abs + "/"}).String()

	// With -serialize, bind the public address ourselves (so a busy port fails
	// here) and let FerretDB listen on a private loopback port behind the relay.
	var public net.Listener
	ferretAddr := *listenAddr
	if *serialize {
		if public, err = net.Listen("tcp", *listenAddr); err != nil {
			fail("listening", err)
		}
		ferretAddr = "127.0.0.1:0"
	}

	// Telemetry: the embeddable package never starts the telemetry reporter and
	// ferretdb.New itself disables (and locks) telemetry in its state, so there
	// is nothing to configure here. No state file is written either.
	backend := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: ferretAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	}
	if *postgresqlURL != "" {
		backend.Handler, backend.SQLiteURL, backend.PostgreSQLURL = "postgresql", "", *postgresqlURL
	}
	f, err := ferretdb.New(backend)
	if err != nil { // e.g. address already in use: New already binds the port
		fail("starting FerretDB", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The port is bound by now; announce the URI (readiness signal for scripts).
	uri := f.MongoDBURI()
	if public != nil {
		backend, _ := url.Parse(uri)
		go relay(ctx, public, backend.Host, logger)
		uri = "mongodb://" + public.Addr().String() + "/"
	}
	fmt.Println(uri)

	// Run blocks until ctx is canceled, then closes the listener, waits (up to
	// ~3 s) for open client connections and closes the SQLite databases.
	_ = f.Run(ctx)
	cleanup()
}

// relay accepts clients on ln and gives each its own connection to FerretDB at
// backend. Every request is forwarded and its one reply read back while a lock
// is held: the lock of the collection the command names, so that no two
// commands on one collection run at the same time while commands on different
// collections (different tables) do; a command that names no collection
// (handshake, ping, getMore, dropDatabase, ...) holds every lock.
// (FerretDB answers every message exactly once; it has no exhaust/streaming
// replies and no blocking commands that would hold a lock for long.)
func relay(ctx context.Context, ln net.Listener, backend string, logger *slog.Logger) {
	var locks collectionLocks
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		client, err := ln.Accept()
		if err != nil {
			return // listener closed on shutdown
		}
		go func() {
			defer client.Close()
			server, err := net.Dial("tcp", backend)
			if err != nil {
				logger.Error("relay: dialing FerretDB", "error", err)
				return
			}
			defer server.Close()
			for {
				req, err := readMessage(client)
				if err != nil {
					return // client went away
				}
				unlock := locks.lock(commandCollection(req))
				_, err = server.Write(req)
				var res []byte
				if err == nil {
					res, err = readMessage(server)
				}
				unlock()
				if err != nil {
					return // FerretDB closed the connection (e.g. shutting down)
				}
				if _, err = client.Write(res); err != nil {
					return
				}
			}
		}()
	}
}

// collectionLocks is a lock per collection name, under one lock for all of them.
type collectionLocks struct {
	all    sync.RWMutex
	mu     sync.Mutex
	byName map[string]*sync.Mutex
}

// lock takes the lock of the collection name, or every lock for "", and
// returns the function that lets it go.
func (l *collectionLocks) lock(name string) func() {
	if name == "" {
		l.all.Lock()
		return l.all.Unlock
	}
	l.all.RLock()
	l.mu.Lock()
	if l.byName == nil {
		l.byName = map[string]*sync.Mutex{}
	}
	one, ok := l.byName[name]
	if !ok {
		one = &sync.Mutex{}
		l.byName[name] = one
	}
	l.mu.Unlock()
	one.Lock()
	return func() { one.Unlock(); l.all.RUnlock() }
}

// commandCollection is the collection an OP_MSG command names: the string value
// of the first element of its body (find: "orders", findAndModify: "orders",
// insert: "orders", ...), or "" for anything else.
func commandCollection(msg []byte) string {
	const opMsg = 2013
	if len(msg) < 21 || binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return ""
	}
	for pos := 20; pos < len(msg); { // after the header (16 bytes) and the flag bits (4)
		kind := msg[pos]
		pos++
		if pos+4 > len(msg) {
			return ""
		}
		size := int(binary.LittleEndian.Uint32(msg[pos : pos+4]))
		if kind != 0 {
			pos += size // a document sequence: its size counts itself
			continue
		}
		doc := msg[pos:]
		if size < 5 || size > len(doc) || doc[4] != 0x02 { // the first element is a string
			return ""
		}
		keyEnd := 5
		for keyEnd < size && doc[keyEnd] != 0 {
			keyEnd++
		}
		valueAt := keyEnd + 1
		if valueAt+4 > size {
			return ""
		}
		length := int(binary.LittleEndian.Uint32(doc[valueAt : valueAt+4]))
		if length < 1 || valueAt+4+length > size {
			return ""
		}
		return string(doc[valueAt+4 : valueAt+4+length-1]) // without the terminating 0
	}
	return ""
}

// readMessage reads one MongoDB wire message: its little-endian int32 length
// (which counts itself) followed by the rest of the message.
func readMessage(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(size[:])
	if n < 16 || n > 48<<20 { // header size .. MongoDB's maxMessageSizeBytes
		return nil, fmt.Errorf("bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, size[:])
	_, err := io.ReadFull(r, msg[4:])
	return msg, err
}
