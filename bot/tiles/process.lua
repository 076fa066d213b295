-- Doorstep's street map (bot/tiles): what tilemaker keeps of an OpenStreetMap extract for the
-- recipient's page. Streets (with their class and name), buildings, water, green areas, the coastline
-- and railways; no points of interest, no addresses: the page draws the recipient's stop and the van.

node_keys = {}

local MAJOR = { motorway = "major", trunk = "major", primary = "major", motorway_link = "major",
                trunk_link = "major", primary_link = "major", secondary = "medium", tertiary = "medium",
                secondary_link = "medium", tertiary_link = "medium", residential = "minor",
                unclassified = "minor", living_street = "minor", pedestrian = "minor", road = "minor",
                service = "service", footway = "path", path = "path", steps = "path", cycleway = "path" }
local GREEN = { park = true, garden = true, grass = true, forest = true, wood = true, scrub = true,
                cemetery = true, pitch = true, meadow = true, recreation_ground = true }

function node_function(node)
end

function way_function(way)
	local highway = way:Find("highway")
	local closed = way:IsClosed()
	if highway ~= "" and MAJOR[highway] and way:Find("area") ~= "yes" then
		local class = MAJOR[highway]
		way:Layer("road", false)
		way:Attribute("class", class)
		if class == "major" then way:MinZoom(10)
		elseif class == "medium" then way:MinZoom(11)
		elseif class == "minor" then way:MinZoom(13)
		else way:MinZoom(14) end
		local name = way:Find("name")
		if name ~= "" then way:Attribute("name", name) end
		return
	end
	if way:Find("railway") == "rail" then
		way:Layer("rail", false)
		return
	end
	if way:Find("natural") == "coastline" then
		way:Layer("coastline", false)
		return
	end
	if not closed then return end
	local natural, landuse, leisure = way:Find("natural"), way:Find("landuse"), way:Find("leisure")
	if natural == "water" or landuse == "reservoir" or landuse == "basin" or way:Find("waterway") == "riverbank"
		or leisure == "swimming_pool" or leisure == "marina" then
		way:Layer("water", true)
	elseif GREEN[leisure] or GREEN[landuse] or GREEN[natural] then
		way:Layer("green", true)
		way:MinZoom(12)
	elseif way:Find("building") ~= "" then
		way:Layer("building", true)
	end
end
