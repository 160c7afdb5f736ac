"""Om: methods in plain words, data sources, and the caveats about the demo data."""

import streamlit as st

from geo import auth as A
from geo import compare_report
from geo import report_public as rp
from ui import auth, common

auth.require(A.VIEW_MAP, page="om")
st.title("Om Lägesbild")
data = common.get_data()
common.show_data_status(data)
if data.is_demo:
    st.warning(
        "**Du tittar på demodatan. Den är påhittad och gränserna är ungefärliga.** Händelserna "
        "och de otrygga platserna i demon är syntetiska (skapade av programmet med kända, "
        "inplanterade mönster), och områdesgränserna är ritade runt ungefärliga mittpunkter "
        "(±300 m). De är varken officiella kommundelar eller stadsdelar. Ladda upp egna data "
        "och officiella gränser under **Data** för verkligt arbete."
    )
else:
    st.info(
        f"**Data i den här sessionen:** {common.md_escape(data.label)}. Demodatan används "
        "inte: inga av dess händelser, otrygga platser, gränser eller ortnamn blandas in."
    )
st.markdown(
    """
### Vad kartan visar
- **Hotspotzoner** (röda ytor med siffra): platser där händelserna är tydligt fler än i
  resten av området, och som en patrull kan täcka: högst 0,25 km² (ungefär 500 × 500 m)
  om du inte väljer annat. Ett större hett område delas kring sina toppar i flera zoner.
  En zon rymmer minst 5 händelser; en plats som bara är het för att invånare nämnt den står
  i listan över upplevd otrygghet, inte bland zonerna. Siffran är rangen inom området:
  1 = högst poäng, där poängen är antalet händelser i zonen plus 0,5 för varje omnämnande
  i medborgardialogen (ett omnämnande är upplevd otrygghet, inte ett brott). Zonen får namn
  efter närmaste kända plats inom 400 m (station, centrum, torg), annars avstånd och
  riktning från en plats ("700 m nordost om Riddarplatsen") eller "Zon 3 – område".
- **Gi\\*-celler**: rutnätet bakom zonerna. Röda rutor är *heta* (fler händelser än slumpen
  förklarar, med 90, 95 eller 99 % säkerhet), blå är *kalla*. Färgerna är desamma som i
  ArcGIS Hot Spot Analysis.
- **Värmekarta**: tätheten av händelser, utan statistisk prövning.
- **Otrygga platser** (lila ringar): platser som invånare pekat ut i medborgardialoger, med
  skälet. De visar upplevd otrygghet, inte brott, och räknas därför för sig.

### Metoderna i korthet
- **Getis-Ord Gi\\*** jämför varje ruta och dess grannar med hela området. Ett högt z-värde
  betyder fler händelser än slumpen ger. För att inte hitta falska hotspots när tusentals
  rutor prövas samtidigt korrigeras resultatet (False Discovery Rate). Varje område
  analyseras för sig, med sitt eget rutnät: rutstorleken (50–250 m, ett kvarter) följer hur
  tätt händelserna i området ligger, och grannavståndet (högst 1 km) är där mönstret
  klumpar sig tydligast, eller, när det klumpar sig på alla skalor som brott oftast gör,
  avståndet inom vilket en typisk händelse har tio andra. Storleken på gränsfilen spelar
  ingen roll; områden med färre än 30 händelser analyseras inte. Valen och skälen visas
  under Hotspots.
- **DBSCAN / HDBSCAN** letar täta kluster av händelser (avstånd i meter, minsta antal).
- **PAI** (Prediction Accuracy Index) = andel händelser i zonen delat med zonens andel av
  ytan, båda räknade mot det område som analyserades (t.ex. "av 48,7 km² i Järfälla").
  PAI 10 betyder tio gånger tätare än genomsnittet i området.
- **Tidsfönster**: en natt räknas till kvällen den började — fredag 23:30 och lördag 02:00 är
  båda "fredagsnatt". Helgdagar följer svensk kalender; lov följer kommunens lovdagar.
- **Jämförelse i I korthet**: samma filter, perioden av samma längd närmast före.
- **Utveckling över tid** (Emerging Hot Spot Analysis): varje ruta prövas med Gi\\* i varje
  månad (vecka, kvartal) tillsammans med grannarna i samma och föregående månad; en trend
  (Mann–Kendall) över månaderna avgör om en hotspot är ny, ökande, ihållande, avtagande,
  sporadisk, växlande eller historisk.
- **Near repeat** (Knox-test): räknar par av händelser efter avstånd och antal dagar isär och
  jämför med slumpade datum; "förhöjd risk" betyder fler par nära i tid och rum än slumpen ger.
- **Tidsintervall** ("mellan fredag 17 och måndag 07"): händelsen fördelas jämnt över
  intervallets timmar; intervall över 7 dygn räknas inte i timresultaten.

### Före/efter: gav insatserna effekt, och flyttade brotten?
Före/efter jämför antal händelser per 30 dagar i varje zon före och efter insatserna, i en
ring runt zonen (närområdet) och i ett kontrollområde. Varje zon får en mening i klartext,
t.ex. "Färre våldsbrott i zonen, men lika många i närområdet: ingen säker nettoeffekt", och
siffrorna bakom ett klick bort. Perioder som når förbi datan kortas till de dagar som har
data, och det sägs ut.
"""
)
for heading, text in compare_report.GUIDE:
    st.markdown(f"- **{heading}.** {text}")
st.markdown(
    f"""
### Rapporten till invånarna
"Följ med i hur det går" visar vad som lovades, vad som har gjorts och vad som har
förändrats, med bara sammanräknade uppgifter. {rp.PRIVACY_NOTE}

### Data och integritet
- Händelser är känsliga personuppgifter (brottsdatalagen). Allt som visas utanför polisen
  ska aggregeras; antal under 5 visas som "<5".
- Utan bakgrundskarta hämtas inga kartrutor: kartan fungerar i slutna nät och avslöjar inte
  vilket område du tittar på. En intern kartserver kan anges med `LAGESBILD_TILES`.
- Kartans programfiler (Leaflet med tillägg) hämtas en gång från npm-registret vid
  installationen och serveras av appen själv.

### Källor
Demodata: genererad av `lagesbild demo-data` (se `data/README.md`). Metoder: Getis & Ord
(1992), Ord & Getis (1995), Chainey, Tompson & Uhlig (2008), Benjamini & Hochberg (1995),
Holm (1979), Bowers & Johnson (2003), Wheeler & Ratcliffe (2018).
"""
)
