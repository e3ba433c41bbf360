extension GatewayService {
    /// The gateway's OpenAPI 3.1 document, served at `GET /openapi.json`.
    ///
    /// `Resources/openapi.json` is the single source: SwiftPM compiles its bytes in
    /// (`embedInCode`), so the release binary needs no resource bundle beside it and the
    /// served document cannot differ from the file. `scripts/check-api` validates it and checks
    /// the live service against it.
    package static var openAPIDocument: [UInt8] { PackageResources.openapi_json }
}
