module github.com/ci-images/ci-images/bench/deb822

go 1.26

require (
	github.com/ci-images/ci-images v0.0.0-00010101000000-000000000000
	pault.ag/go/debian v0.19.0
)

require (
	github.com/ProtonMail/go-crypto v1.5.2 // indirect
	github.com/cloudflare/circl v1.6.3 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/xi2/xz v0.0.0-20171230120015-48954b6210f8 // indirect
	golang.org/x/crypto v0.41.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	pault.ag/go/topsort v0.1.1 // indirect
)

replace github.com/ci-images/ci-images => ../..
