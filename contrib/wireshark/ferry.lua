-- ferry.lua - Wireshark/tshark dissector for the ferry frame protocol
-- (docs/PROTOCOL.md, version 1) inside the decrypted TLS stream.
--
--   tshark -X lua_script:contrib/wireshark/ferry.lua \
--          -o tls.keylog_file:keys.log -r capture.pcap -Y ferry
--
-- The TLS layer hands us the application data once it can decrypt it
-- (SSLKEYLOGFILE). We are found by the negotiated ALPN "ferry/1", by the
-- TCP port in the "ferry" preferences (default 7443), or heuristically by
-- the client's HELLO. Frames (type u8, length u32 big-endian, payload) are
-- not aligned to TLS records: a record may hold several frames or a piece
-- of one, so we ask TLS to reassemble (pinfo.desegment_*).
-- See contrib/wireshark/README.md.

local ferry = Proto("ferry", "ferry file transfer protocol")

local HDR = 5
local MAX_CONTROL = 8192
local MAX_DATA = 262144

local types = {
	[0x01] = "HELLO", [0x10] = "PUT", [0x11] = "DATA", [0x12] = "END",
	[0x13] = "ABORT", [0x20] = "GET", [0x21] = "FILE", [0x30] = "LIST",
	[0x31] = "ENTRY", [0x32] = "LISTEND", [0x40] = "OK", [0x41] = "ERR",
	-- feature SYNC (PROTOCOL.md 5.10-5.16)
	[0x14] = "PROBE", [0x15] = "PUTAT", [0x16] = "MKDIR", [0x17] = "LINK",
	[0x22] = "GETAT", [0x23] = "FILEAT", [0x33] = "WALK", [0x34] = "NODE",
	[0x42] = "HAVE",
}

local codes = {
	[1] = "INTERNAL", [2] = "NOMEM", [3] = "CRYPTO", [10] = "USAGE",
	[20] = "IO", [21] = "NOSPACE", [30] = "NOENT", [40] = "EXIST",
	[41] = "ACCESS", [42] = "BADNAME", [43] = "NOTREG", [44] = "NOTDIR",
	[45] = "TOOBIG", [46] = "REFUSED", [47] = "BUSY", [50] = "CONNECT",
	[51] = "TIMEOUT", [52] = "CLOSED", [53] = "RESOLVE", [54] = "INTR",
	[60] = "PROTO", [61] = "VERSION", [70] = "TLS", [80] = "CERT",
	[81] = "IDENTITY", [82] = "NOCERT", [90] = "INTEGRITY",
}

local kinds = {
	[0x66] = "regular file", [0x64] = "directory",
	[0x6c] = "symbolic link", [0x6f] = "other",
	[0x00] = "nothing", -- HAVE only
}

local f = {
	frame    = ProtoField.bytes("ferry.frame", "Frame", base.NONE),
	type     = ProtoField.uint8("ferry.type", "Type", base.HEX, types),
	typename = ProtoField.string("ferry.typename", "Type name"),
	length   = ProtoField.uint32("ferry.length", "Length", base.DEC),
	version  = ProtoField.uint16("ferry.version", "Version", base.DEC),
	features = ProtoField.uint64("ferry.features", "Features", base.HEX),
	software = ProtoField.string("ferry.software", "Software"),
	id       = ProtoField.uint32("ferry.id", "Request id", base.DEC),
	size     = ProtoField.uint64("ferry.size", "Size", base.DEC),
	mode     = ProtoField.uint32("ferry.mode", "Mode", base.OCT),
	mtime    = ProtoField.int64("ferry.mtime", "Modification time", base.DEC),
	flags    = ProtoField.uint32("ferry.flags", "Flags", base.HEX),
	force    = ProtoField.bool("ferry.flags.force", "FORCE", 32, nil, 0x1),
	preserve = ProtoField.bool("ferry.flags.preserve", "PRESERVE", 32, nil, 0x2),
	same     = ProtoField.bool("ferry.flags.same", "SAME", 32, nil, 0x1),
	putsame  = ProtoField.bool("ferry.flags.putat_same", "SAME", 32, nil, 0x4),
	name     = ProtoField.string("ferry.name", "Name"),
	path     = ProtoField.string("ferry.path", "Path"),
	sha256   = ProtoField.string("ferry.sha256", "SHA-256"),
	data     = ProtoField.bytes("ferry.data", "Data"),
	code     = ProtoField.uint16("ferry.code", "Error code", base.DEC, codes),
	message  = ProtoField.string("ferry.message", "Message"),
	kind     = ProtoField.uint8("ferry.kind", "Kind", base.HEX, kinds),
	count    = ProtoField.uint32("ferry.count", "Count", base.DEC),
	offset   = ProtoField.uint64("ferry.offset", "Offset", base.DEC),
	prefix   = ProtoField.string("ferry.prefix_sha256", "Prefix SHA-256"),
	part     = ProtoField.uint64("ferry.part", "Partial file bytes", base.DEC),
	part_sha = ProtoField.string("ferry.part_sha256", "Partial file SHA-256"),
	target   = ProtoField.string("ferry.target", "Link target"),
}
ferry.fields = {
	f.frame, f.type, f.typename, f.length, f.version, f.features,
	f.software, f.id, f.size, f.mode, f.mtime, f.flags, f.force,
	f.preserve, f.same, f.putsame, f.name, f.path, f.sha256, f.data, f.code,
	f.message, f.kind, f.count, f.offset, f.prefix, f.part, f.part_sha,
	f.target,
}

local e_malformed = ProtoExpert.new("ferry.malformed", "Malformed ferry frame",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_unknown = ProtoExpert.new("ferry.unknown_type", "Unknown ferry frame type (fatal)",
	expert.group.PROTOCOL, expert.severity.ERROR)
local e_toolong = ProtoExpert.new("ferry.too_long", "Frame longer than its type allows (fatal)",
	expert.group.PROTOCOL, expert.severity.ERROR)
ferry.experts = { e_malformed, e_unknown, e_toolong }

ferry.prefs.port = Pref.uint("TCP port", 7443,
	"Decode TLS application data on this TCP port as ferry (0: none)")

-- Field readers over one frame's payload. Each returns false when the
-- payload is too short, after flagging it.
local Reader = {}
Reader.__index = Reader

local function reader(tvb, tree)
	return setmetatable({ tvb = tvb, tree = tree, off = 0, ok = true }, Reader)
end

function Reader:need(n)
	if not self.ok then return false end
	if self.tvb:len() - self.off < n then
		self.tree:add_proto_expert_info(e_malformed, "payload too short")
		self.ok = false
		return false
	end
	return true
end

function Reader:fixed(field, n)
	if not self:need(n) then return nil end
	local r = self.tvb(self.off, n)
	local item = self.tree:add(field, r)
	self.off = self.off + n
	return r, item
end

function Reader:text(field)
	if not self:need(2) then return nil end
	local n = self.tvb(self.off, 2):uint()
	if not self:need(2 + n) then return nil end
	local s = n > 0 and self.tvb(self.off + 2, n):string() or ""
	local r = self.tvb(self.off, 2 + n)
	self.tree:add(field, r, s)
	self.off = self.off + 2 + n
	return s
end

function Reader:sha256(field)
	if not self:need(32) then return nil end
	local r = self.tvb(self.off, 32)
	local hex = string.lower(r:bytes():tohex())
	self.tree:add(field or f.sha256, r, hex)
	self.off = self.off + 32
	return hex
end

function Reader:mtime()
	local r, item = self:fixed(f.mtime, 8)
	if r then
		local secs = r:int64():tonumber()
		local ok, s = pcall(os.date, "!%Y-%m-%d %H:%M:%S UTC", secs)
		if ok and s then item:append_text(" (" .. s .. ")") end
	end
	return r
end

function Reader:done()
	if self.ok and self.off ~= self.tvb:len() then
		self.tree:add_proto_expert_info(e_malformed,
			(self.tvb:len() - self.off) .. " bytes left over after the last field")
	end
end

local function short_hex(h)
	if not h then return "?" end
	return h:sub(1, 8) .. "..." .. h:sub(-5)
end

local function u(r)
	return r and tostring(r:uint()) or "?"
end

local function u64(r)
	return r and tostring(r:uint64()) or "?"
end

local function kind_char(r)
	if not r then return "?" end
	local k = r:uint()
	if k == 0 then return "-" end
	return string.char(k)
end

-- PUT, PUTAT, MKDIR, LINK: FORCE and PRESERVE; PUTAT: SAME (0x4);
-- GETAT: SAME (0x1).
local function flag_bits(tree, fl, ...)
	if not fl then return end
	for _, field in ipairs({ ... }) do tree:add(field, fl) end
end

-- Dissects one payload; returns a one-line summary for the Info column.
local function payload(t, body, tree, len)
	local rd = reader(body, tree)
	local s
	if t == 0x01 then
		local v = rd:fixed(f.version, 2)
		rd:fixed(f.features, 8)
		local sw = rd:text(f.software)
		s = string.format("HELLO version=%s \"%s\"", v and v:uint() or "?", sw or "?")
	elseif t == 0x10 then
		local id = rd:fixed(f.id, 4)
		local size = rd:fixed(f.size, 8)
		rd:fixed(f.mode, 4)
		rd:mtime()
		local fl = rd:fixed(f.flags, 4)
		flag_bits(tree, fl, f.force, f.preserve)
		local name = rd:text(f.name)
		s = string.format("PUT id=%s size=%s name=\"%s\"", id and id:uint() or "?",
			size and tostring(size:uint64()) or "?", name or "?")
	elseif t == 0x11 then
		if len > 0 then tree:add(f.data, body(0, len)) end
		rd.off = len
		s = string.format("DATA (%d)", len)
	elseif t == 0x12 then
		s = "END sha256=" .. short_hex(rd:sha256())
	elseif t == 0x13 then
		local c = rd:fixed(f.code, 2)
		local m = rd:text(f.message)
		s = string.format("ABORT code=%s \"%s\"", c and c:uint() or "?", m or "?")
	elseif t == 0x20 then
		local id = rd:fixed(f.id, 4)
		rd:fixed(f.flags, 4)
		local p = rd:text(f.path)
		s = string.format("GET id=%s path=\"%s\"", id and id:uint() or "?", p or "?")
	elseif t == 0x21 then
		local id = rd:fixed(f.id, 4)
		local size = rd:fixed(f.size, 8)
		rd:fixed(f.mode, 4)
		rd:mtime()
		s = string.format("FILE id=%s size=%s", id and id:uint() or "?",
			size and tostring(size:uint64()) or "?")
	elseif t == 0x30 then
		local id = rd:fixed(f.id, 4)
		local p = rd:text(f.path)
		s = string.format("LIST id=%s path=\"%s\"", id and id:uint() or "?", p or "?")
	elseif t == 0x31 then
		local k = rd:fixed(f.kind, 1)
		rd:fixed(f.size, 8)
		rd:fixed(f.mode, 4)
		rd:mtime()
		local name = rd:text(f.name)
		s = string.format("ENTRY kind='%s' name=\"%s\"",
			k and string.char(k:uint()) or "?", name or "?")
	elseif t == 0x32 then
		local id = rd:fixed(f.id, 4)
		local c = rd:fixed(f.count, 4)
		s = string.format("LISTEND id=%s count=%s", id and id:uint() or "?", c and c:uint() or "?")
	elseif t == 0x40 then
		local id = rd:fixed(f.id, 4)
		local size = rd:fixed(f.size, 8)
		local h = rd:sha256()
		s = string.format("OK id=%s size=%s sha256=%s", id and id:uint() or "?",
			size and tostring(size:uint64()) or "?", short_hex(h))
	elseif t == 0x41 then
		local id = rd:fixed(f.id, 4)
		local c = rd:fixed(f.code, 2)
		local m = rd:text(f.message)
		local cn = c and (codes[c:uint()] or tostring(c:uint())) or "?"
		s = string.format("ERR id=%s code=%s \"%s\"", id and id:uint() or "?", cn, m or "?")
	elseif t == 0x14 then
		local id = rd:fixed(f.id, 4)
		local size = rd:fixed(f.size, 8)
		local p = rd:text(f.path)
		s = string.format("PROBE id=%s size=%s path=\"%s\"", u(id), u64(size), p or "?")
	elseif t == 0x15 then
		local id = rd:fixed(f.id, 4)
		local size = rd:fixed(f.size, 8)
		rd:fixed(f.mode, 4)
		rd:mtime()
		local fl = rd:fixed(f.flags, 4)
		flag_bits(tree, fl, f.force, f.preserve, f.putsame)
		local o = rd:fixed(f.offset, 8)
		rd:sha256(f.prefix)
		local p = rd:text(f.path)
		s = string.format("PUTAT id=%s size=%s offset=%s path=\"%s\"", u(id),
			u64(size), u64(o), p or "?")
	elseif t == 0x16 then
		local id = rd:fixed(f.id, 4)
		rd:fixed(f.mode, 4)
		rd:mtime()
		local fl = rd:fixed(f.flags, 4)
		flag_bits(tree, fl, f.preserve)
		local p = rd:text(f.path)
		s = string.format("MKDIR id=%s path=\"%s\"", u(id), p or "?")
	elseif t == 0x17 then
		local id = rd:fixed(f.id, 4)
		local fl = rd:fixed(f.flags, 4)
		flag_bits(tree, fl, f.force)
		local p = rd:text(f.path)
		local tg = rd:text(f.target)
		s = string.format("LINK id=%s path=\"%s\" -> \"%s\"", u(id), p or "?", tg or "?")
	elseif t == 0x22 then
		local id = rd:fixed(f.id, 4)
		local fl = rd:fixed(f.flags, 4)
		flag_bits(tree, fl, f.same)
		local o = rd:fixed(f.offset, 8)
		rd:sha256(f.prefix)
		local p = rd:text(f.path)
		local same = fl and fl:uint() % 2 == 1
		s = string.format("GETAT id=%s offset=%s path=\"%s\"%s", u(id), u64(o),
			p or "?", same and " SAME" or "")
	elseif t == 0x23 then
		local id = rd:fixed(f.id, 4)
		local size = rd:fixed(f.size, 8)
		rd:fixed(f.mode, 4)
		rd:mtime()
		local o = rd:fixed(f.offset, 8)
		s = string.format("FILEAT id=%s size=%s offset=%s", u(id), u64(size), u64(o))
	elseif t == 0x33 then
		local id = rd:fixed(f.id, 4)
		local p = rd:text(f.path)
		s = string.format("WALK id=%s path=\"%s\"", u(id), p or "?")
	elseif t == 0x34 then
		local k = rd:fixed(f.kind, 1)
		rd:fixed(f.size, 8)
		rd:fixed(f.mode, 4)
		rd:mtime()
		local p = rd:text(f.path)
		local tg = rd:text(f.target)
		s = string.format("NODE kind='%s' path=\"%s\"", kind_char(k), p or "?")
		if tg and tg ~= "" then s = s .. string.format(" -> \"%s\"", tg) end
	elseif t == 0x42 then
		local id = rd:fixed(f.id, 4)
		local k = rd:fixed(f.kind, 1)
		local size = rd:fixed(f.size, 8)
		local h = rd:sha256()
		local part = rd:fixed(f.part, 8)
		rd:sha256(f.part_sha)
		s = string.format("HAVE id=%s kind='%s' size=%s sha256=%s part=%s", u(id),
			kind_char(k), u64(size), short_hex(h), u64(part))
	end
	rd:done()
	return s
end

local info_packet, info_text = -1, ""

-- The TLS dissector calls us with the decrypted application data of one
-- record (plus whatever it reassembled for us before).
function ferry.dissector(tvb, pinfo, root)
	local total = tvb:len()
	local off = 0
	local summary = {}
	while off < total do
		local left = total - off
		if left < HDR then
			pinfo.desegment_offset = off
			pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
			break
		end
		local t = tvb(off, 1):uint()
		local len = tvb(off + 1, 4):uint()
		local name = types[t]
		if name == nil or len > (t == 0x11 and MAX_DATA or MAX_CONTROL) then
			-- Fatal for a real peer; show it and stop (never guess).
			local tree = root:add(ferry, tvb(off), "ferry, invalid frame")
			tree:add(f.type, tvb(off, 1))
			tree:add(f.length, tvb(off + 1, 4))
			tree:add_proto_expert_info(name == nil and e_unknown or e_toolong)
			summary[#summary + 1] = "invalid frame"
			off = total
			break
		end
		if left < HDR + len then
			pinfo.desegment_offset = off
			pinfo.desegment_len = HDR + len - left
			break
		end
		local tree = root:add(ferry, tvb(off, HDR + len))
		tree:add(f.type, tvb(off, 1))
		tree:add(f.typename, tvb(off, 1), name)
		tree:add(f.length, tvb(off + 1, 4))
		local s = payload(t, tvb(off + HDR, len):tvb(), tree, len) or name
		tree:append_text(": " .. s)
		summary[#summary + 1] = s
		off = off + HDR + len
	end
	if #summary > 0 then
		-- One packet may bring several records, each a call: keep them all.
		local text = table.concat(summary, ", ")
		if info_packet == pinfo.number then
			pinfo.cols.info = info_text .. ", " .. text
			info_text = info_text .. ", " .. text
		else
			pinfo.cols.info = text
			info_text = text
		end
		info_packet = pinfo.number
		pinfo.cols.protocol = "FERRY"
	end
	return off
end

-- The first frame each way is HELLO (version != 0, a small payload). Once
-- a TCP stream starts so, the rest of its application data is ferry too.
local tcp_stream = Field.new("tcp.stream")
local heur_streams = {}

local function heuristic(tvb, pinfo, root)
	local st = tcp_stream()
	st = st and st.value
	if st ~= nil and heur_streams[st] then
		ferry.dissector(tvb, pinfo, root)
		return true
	end
	if tvb:len() < HDR + 12 then return false end
	if tvb(0, 1):uint() ~= 0x01 then return false end
	local len = tvb(1, 4):uint()
	if len < 12 or len > 12 + 1024 then return false end
	if tvb(5, 2):uint() == 0 then return false end
	if tvb(15, 2):uint() ~= len - 12 then return false end
	if st ~= nil then heur_streams[st] = true end
	ferry.dissector(tvb, pinfo, root)
	return true
end

local function try_table(name, key)
	local ok, tbl = pcall(DissectorTable.get, name)
	if ok and tbl then
		tbl:add(key, ferry)
		return true
	end
	return false
end

try_table("tls.alpn", "ferry/1")
pcall(function() ferry:register_heuristic("tls", heuristic) end)

local cur_port = 0
local function set_port(p)
	local ok, tbl = pcall(DissectorTable.get, "tls.port")
	if not ok or not tbl then return end
	if cur_port ~= 0 then tbl:remove(cur_port, ferry) end
	if p ~= 0 then tbl:add(p, ferry) end
	cur_port = p
end
set_port(ferry.prefs.port)

function ferry.init()
	heur_streams = {}
end

function ferry.prefs_changed()
	if ferry.prefs.port ~= cur_port then set_port(ferry.prefs.port) end
end
