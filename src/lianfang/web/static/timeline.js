/* The trajectory time chart (ECharts, canvas renderer): each track's readable sightings over time
 * (x: time, labelled in the platform's zone; y: city), city crossings (◆) and suspected cloned-plate
 * jumps (▲) marked. Masked sightings have no time: they are only counted per city, in a bar beside
 * the chart. Tooltips are rendered on the canvas (richText), so no inline styles are written and the
 * page's Content-Security-Policy holds. Data comes from <script type="application/json" id="track-data">. */
(function () {
  "use strict";

  lianfang.ready(function () {
    var el = document.getElementById("track-chart");
    var data = lianfang.data("track-data");
    if (!el || !data || !window.echarts) { return; }
    var texts = data.texts;
    var codes = Object.keys(data.cities);
    var cities = codes.map(function (code) { return data.cities[code]; });
    var maskedBy = {};
    data.masked.forEach(function (m) { maskedBy[data.cities[m.city_code] || m.city_code] = m.n; });
    var anyMasked = data.masked.length > 0;

    function mark(p) {
      if (p.enters) { return texts.enters.replace("{city}", p.city); }
      if (p.leaves) { return texts.leaves.replace("{city}", p.leaves); }
      return "";
    }

    var series = data.tracks.map(function (track) {
      return {
        type: "line", name: track.label, xAxisIndex: 0, yAxisIndex: 0,
        color: track.colour, lineStyle: { width: 2, opacity: 0.7 },
        symbolSize: 8, showAllSymbol: true, animation: false,
        data: track.points.filter(function (p) { return p.t !== null; }).map(function (p) {
          var flagged = p.clone || p.enters || p.leaves;
          return {
            value: [p.t, p.city], point: p, track: track.label,
            symbol: p.clone ? "triangle" : (p.enters ? "diamond" : "circle"),
            symbolSize: flagged ? 14 : 8,
            itemStyle: p.clone ? { color: "#b00020" } : undefined,
            label: mark(p) ? { show: true, position: "top", formatter: mark(p), color: "#0f3d75", fontWeight: "bold" }
              : undefined
          };
        })
      };
    });
    if (anyMasked) {
      series.push({
        type: "bar", name: texts.masked, xAxisIndex: 1, yAxisIndex: 1, color: "#b26a00", barMaxWidth: 18,
        animation: false,
        label: { show: true, position: "right", formatter: function (params) { return params.value ? params.value : ""; } },
        data: cities.map(function (name) { return maskedBy[name] || 0; })
      });
    }

    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      legend: { top: 0, data: series.map(function (s) { return s.name; }) },
      grid: [
        { left: 90, right: anyMasked ? "26%" : 30, top: 40, bottom: 56 },
        { left: "78%", right: 40, top: 40, bottom: 56 }
      ],
      xAxis: [
        { type: "time", gridIndex: 0, name: texts.time, nameLocation: "middle", nameGap: 30,
          axisLabel: { hideOverlap: true, formatter: function (v) { return lianfang.time(v).slice(5, 16); } } },
        { type: "value", gridIndex: 1, minInterval: 1, name: texts.masked, nameLocation: "middle", nameGap: 30,
          show: anyMasked }
      ],
      yAxis: [
        { type: "category", gridIndex: 0, data: cities, name: texts.city },
        { type: "category", gridIndex: 1, data: cities, axisLabel: { show: false }, show: anyMasked }
      ],
      tooltip: {
        trigger: "item", renderMode: "richText",
        formatter: function (params) {
          var d = params.data || {};
          if (!d.point) { return params.seriesName + " · " + params.name + "：" + params.value; }
          var p = d.point;
          var text = (data.tracks.length > 1 ? d.track + " · " : "") + p.seq + ". " + lianfang.time(p.t) + "\n" +
            p.city + " · " + (p.name || "");
          if (mark(p)) { text += "\n" + mark(p); }
          if (p.clone) { text += "\n" + texts.clone.replace("{kmh}", p.kmh === null ? "?" : p.kmh); }
          return text;
        }
      },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-ready", "true");
  });
})();
